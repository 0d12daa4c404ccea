"""Regenerates the dialect fixtures: what real instrumentation libraries send, captured once.

For each library, `capture_app.py` runs in that library's own virtualenv (a library's
dependencies must never enter the project's environment), instruments the real `openai` and
`anthropic` clients against the local fake provider, and hands back the OTLP export requests its
spans (and log records) make. They are written here as OTLP/JSON, the form the collector accepts
on /v1/traces and /v1/logs, under `fixtures/<fixture>/` with a `meta.json` naming the versions.

    .venv/bin/python tests/dialects/capture_fixtures.py --create-venvs      # every fixture
    .venv/bin/python tests/dialects/capture_fixtures.py openlit langfuse    # some of them

Virtualenvs live in /tmp/dialect-<library> (`--venv-root` to move them); `--create-venvs`
makes the missing ones from the requirements below. Nothing here needs the network but for
those installs: the libraries run offline against the loopback fake provider.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tokentrail_collector.otlp._json import to_json

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
APP = HERE / "capture_app.py"
# What every venv needs beside the library: the clients and the SDK, then (once the library has
# chosen the SDK's version) the OTLP encoder capture_app uses, of that version, and httpx, which
# the instrumentations import and the current clients no longer bring (below 1.0: its
# pre-releases drop names the clients' compatibility layer still looks up).
_CLIENTS = ("openai", "anthropic", "opentelemetry-sdk")
_SDK_VERSION = "import importlib.metadata as m; print(m.version('opentelemetry-sdk'))"


@dataclass(frozen=True)
class Library:
    """One fixture: the library's venv, what to install there, and the environment to run it in."""

    venv: str
    requirements: tuple[str, ...]
    environment: dict[str, str] = field(default_factory=dict)


_OTEL_OPENAI_V2 = (
    "opentelemetry-instrumentation-openai-v2==2.4b0",
    # 2.4b0 imports `opentelemetry.util.genai.instruments`, gone from util-genai 1.2; 1.0 and 1.1
    # always take the experimental path, so 0.4b0 is the newest that keeps both conventions.
    "opentelemetry-util-genai==0.4b0",
)
LIBRARIES: dict[str, Library] = {
    # OpenTelemetry's own instrumentation, default (v1.30) conventions: content as log records.
    "otel-openai-v2": Library(
        "otel-openai-v2", _OTEL_OPENAI_V2, {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    ),
    # The same, latest experimental conventions: content in span attributes and an event record.
    "otel-openai-v2-latest": Library(
        "otel-openai-v2",
        _OTEL_OPENAI_V2,
        {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_and_event",
        },
    ),
    "openllmetry": Library(
        "openllmetry",
        ("traceloop-sdk==0.62.4",),
        {"TRACELOOP_TELEMETRY": "false", "TRACELOOP_TRACE_CONTENT": "true"},
    ),
    # A release from before the switch to `gen_ai.input.messages`: numbered `gen_ai.prompt.N.*` /
    # `gen_ai.completion.N.*`, `gen_ai.usage.prompt_tokens`, `llm.usage.total_tokens`. The clients
    # are pinned to releases of its time, which its wrappers know.
    "openllmetry-legacy": Library(
        "openllmetry-legacy",
        ("traceloop-sdk==0.40.14", "openai==1.82.0", "anthropic==0.52.0"),
        {"TRACELOOP_TELEMETRY": "false", "TRACELOOP_TRACE_CONTENT": "true"},
    ),
    "openinference": Library(
        "openinference",
        ("openinference-instrumentation-openai==0.1.66", "openinference-instrumentation-anthropic==3.1.0"),
    ),
    # OpenLIT pins its own (older) openai and anthropic; it is given a local pricing file.
    "openlit": Library("openlit", ("openlit==1.45.0",)),
    "langfuse": Library("langfuse", ("langfuse==5.2.0",)),
}


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def create_venv(venv: Path, library: Library) -> None:
    print(f"creating {venv}", flush=True)
    python = str(python_of(venv))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *library.requirements, *_CLIENTS], check=True)
    sdk = subprocess.run(
        [python, "-c", _SDK_VERSION], check=True, capture_output=True, text=True
    ).stdout.strip()
    encoder = f"opentelemetry-exporter-otlp-proto-common=={sdk}"
    subprocess.run([python, "-m", "pip", "install", "--quiet", encoder, "httpx<1"], check=True)


def capture(name: str, library: Library, venv: Path) -> Path:
    """Run the app for fixture `name` and write its fixture folder; the folder."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "TRACELOOP_"))
    }
    environment.update(library.environment)
    environment["PYTHONWARNINGS"] = "ignore"
    with tempfile.TemporaryDirectory(prefix=f"capture-{name}-") as scratch:
        subprocess.run(
            [str(python_of(venv)), str(APP), name, scratch, str(REPO_ROOT)],
            env=environment,
            check=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        output = Path(scratch)
        target = FIXTURES / name
        target.mkdir(parents=True, exist_ok=True)
        for stale in target.glob("*.json"):
            stale.unlink()
        traces = ExportTraceServiceRequest.FromString((output / "traces.pb").read_bytes())
        _write_json(target / "traces.json", to_json(traces))
        if (output / "logs.pb").exists():
            logs = ExportLogsServiceRequest.FromString((output / "logs.pb").read_bytes())
            _write_json(target / "logs.json", to_json(logs))
        captured = json.loads((output / "versions.json").read_text())
    meta = {
        "fixture": name,
        "library": library.requirements[0].split("==")[0],
        "versions": captured["versions"],
        "environment": library.environment,
        "captured_at": datetime.fromtimestamp(captured["captured_at"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": sys.version.split()[0],
        "regenerate": f".venv/bin/python tests/dialects/capture_fixtures.py --create-venvs {name}",
    }
    (target / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return target


def _write_json(path: Path, encoded: bytes) -> None:
    # Indented, so that a regenerated fixture reads and diffs well.
    document = json.loads(encoded)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "fixtures", nargs="*", choices=[[], *LIBRARIES], help="fixtures to capture (default: all)"
    )
    parser.add_argument("--venv-root", type=Path, default=Path("/tmp"), help="where the dialect-* venvs are")
    parser.add_argument("--create-venvs", action="store_true", help="create the missing venvs first")
    args = parser.parse_args()
    failed = []
    for name in args.fixtures or list(LIBRARIES):
        library = LIBRARIES[name]
        venv = args.venv_root / f"dialect-{library.venv}"
        try:
            if not python_of(venv).exists():
                if not args.create_venvs:
                    print(f"{name}: no venv at {venv} (use --create-venvs)", file=sys.stderr)
                    failed.append(name)
                    continue
                create_venv(venv, library)
            target = capture(name, library, venv)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            print(f"{name}: capture failed: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        sizes = ", ".join(
            f"{path.name} {path.stat().st_size // 1024} KB" for path in sorted(target.iterdir())
        )
        print(f"{name}: {sizes}", flush=True)
    if failed:
        sys.exit(f"not captured: {', '.join(failed)}")


if __name__ == "__main__":
    main()
