"""schemathesis over the collector's own OpenAPI document, against a real collector process: no
operation answers a 5xx, whatever schemathesis makes of its parameters and bodies (valid ones and
invalid ones). Bounded: about TOTAL_EXAMPLES requests in all, spread over the operations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.support import ADMIN_TOKEN, CollectorProcess

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402

TOTAL_EXAMPLES = 100


def test_no_operation_answers_a_5xx(collector: CollectorProcess) -> None:
    key = collector.create_key("schemathesis")["key"]
    schema = schemathesis.openapi.from_url(f"{collector.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    per_mode = max(1, TOTAL_EXAMPLES // (2 * len(operations)))
    server_errors: list[str] = []
    for operation in operations:
        # Admin routes get the admin token, so their handlers run rather than stop at 401.
        token = ADMIN_TOKEN if operation.path.startswith("/api/admin") else key
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _call_examples(operation, mode, collector.url, token, per_mode, server_errors)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no parameters)
    assert server_errors == []
    assert collector.process is not None and collector.process.poll() is None, collector.log()


def _call_examples(
    operation: Any, mode: Any, url: str, token: str, examples: int, server_errors: list[str]
) -> None:
    """Call `operation` with `examples` cases of `mode`, noting every 5xx in `server_errors`."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Any) -> None:
        response = case.call(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if response.status_code >= 500:
            server_errors.append(
                f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r:.200} "
                f"-> {response.status_code}: {response.text[:300]}"
            )

    call()
