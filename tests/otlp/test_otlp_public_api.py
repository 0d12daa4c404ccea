"""The public surface of the OTLP and normalisation packages, pinned (httpx-style)."""

from __future__ import annotations

import tokentrail_collector.normalise as normalise
import tokentrail_collector.otlp as otlp


def test_otlp_public_names() -> None:
    assert sorted(otlp.__all__) == [
        "JSON_MEDIA_TYPE",
        "OtlpError",
        "PROTOBUF_MEDIA_TYPE",
        "decode_logs_request",
        "decode_metrics_request",
        "decode_request",
        "decode_trace_request",
        "encode_error_status",
        "encode_export_response",
        "encode_trace_request_json",
    ]
    assert all(hasattr(otlp, name) for name in otlp.__all__)


def test_normalise_public_names() -> None:
    assert sorted(normalise.__all__) == ["NormalisedBatch", "normalise_traces"]
    assert all(hasattr(normalise, name) for name in normalise.__all__)


def test_the_otlp_package_imports_no_web_framework() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tokentrail_collector.otlp, tokentrail_collector.normalise;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi', 'starlette', 'pydantic'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
