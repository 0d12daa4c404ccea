"""The tiny app `capture_fixtures.py` runs inside one instrumentation library's own virtualenv.

It starts the repo's fake provider (extended here with what it does not serve yet: Anthropic's
/v1/messages, and prompt-cache and reasoning figures in OpenAI usage), instruments the real
`openai` (and `anthropic`, where the library instruments it) client with the library, makes one
parent span with chat completions under it (non-streaming and streaming), and writes what the
library produced, encoded by OpenTelemetry's own OTLP encoders, into an output folder:
`traces.pb` (an ExportTraceServiceRequest), `logs.pb` (an ExportLogsServiceRequest, where the
library emits log records) and `versions.json`.

Usage (inside the library's venv): python capture_app.py LIBRARY OUTPUT_DIR REPO_ROOT
It imports only the standard library, OpenTelemetry, the clients and the library: never tokentrail.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

SERVICE_NAME = "support-bot"
SYSTEM_PROMPT = "You are the support assistant of Acme. Answer in one sentence."
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-3-5-haiku-latest"
# One question per call, so each completion can be matched to its prompt.
QUESTIONS = {
    "openai": "How do I reset my password?",
    "openai_stream": "When are invoices issued?",
    "anthropic": "Is there a rate limit on the API?",
    "anthropic_stream": "Which export formats do you support?",
}
SESSION_ID = "session-42"
USER_ID = "user-7"
TAGS = ["support", "fixture"]
CACHED_SHARE = 2  # the fake provider reports 1/CACHED_SHARE of the prompt as read from cache
REASONING_TOKENS = 3
# Prices for OpenLIT's pricing file (it would otherwise fetch one from the internet), USD per 1K tokens.
OPENLIT_PRICES = {
    "chat": {
        OPENAI_MODEL: {"promptPrice": 0.00015, "completionPrice": 0.0006},
        ANTHROPIC_MODEL: {"promptPrice": 0.0008, "completionPrice": 0.004},
    },
    "embeddings": {},
    "images": {},
    "audio": {},
}
LANGFUSE_COST = {"input": 0.00002, "output": 0.00004, "total": 0.00006}


# --- the provider --------------------------------------------------------------------------------


def load_fake_provider(repo_root: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        "fake_provider", repo_root / "examples" / "fake_provider.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def provider_server(fake: Any) -> ThreadingHTTPServer:
    """The fake provider's handler, with cache/reasoning usage and Anthropic's Messages API added."""

    class Handler(fake.FakeProviderHandler):  # type: ignore[name-defined,misc]
        def send_json(self, status: int, payload: dict[str, Any]) -> None:
            if isinstance(payload.get("usage"), dict) and "prompt_tokens" in payload["usage"]:
                payload["usage"] = with_details(payload["usage"])
            super().send_json(status, payload)

        def stream_completion(self, completion_id, created, model, text, usage, *rest, **kwargs):  # type: ignore[no-untyped-def]
            super().stream_completion(
                completion_id, created, model, text, with_details(usage), *rest, **kwargs
            )

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/messages":
                super().do_POST()
                return
            length = int(self.headers.get("content-length") or 0)
            self.anthropic_message(json.loads(self.rfile.read(length) or b"{}"))

        def anthropic_message(self, body: dict[str, Any]) -> None:
            system = body.get("system") or ""
            if isinstance(system, list):
                system = "\n".join(block.get("text", "") for block in system)
            parts = [system] if system else []
            for message in body.get("messages") or []:
                content = message.get("content", "")
                if isinstance(content, list):
                    content = "\n".join(block.get("text", "") for block in content if isinstance(block, dict))
                parts.append(str(content))
            prompt = "\n".join(parts)
            text = fake.answer_for(prompt)
            prompt_tokens = fake.count_tokens(prompt)
            cached = prompt_tokens // CACHED_SHARE
            usage = {
                "input_tokens": prompt_tokens - cached,
                "output_tokens": fake.count_tokens(text),
                "cache_read_input_tokens": cached,
                "cache_creation_input_tokens": 0,
            }
            message_id = "msg_" + hashlib.sha256(prompt.encode()).hexdigest()[:24]
            model = str(body.get("model", ANTHROPIC_MODEL))
            if not body.get("stream"):
                self.send_json(
                    200,
                    {
                        "id": message_id, "type": "message", "role": "assistant", "model": model,
                        "content": [{"type": "text", "text": text}],
                        "stop_reason": "end_turn", "stop_sequence": None, "usage": usage,
                    },
                )  # fmt: skip
                return
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()

            def event(kind: str, data: dict[str, Any]) -> None:
                self.write_chunk(f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode())

            start_usage = {**usage, "output_tokens": 1}
            event("message_start", {"message": {
                "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": start_usage}})  # fmt: skip
            event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            words = text.split(" ")
            for index, word in enumerate(words):
                piece = word if index == len(words) - 1 else word + " "
                event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}})
            event("content_block_stop", {"index": 0})
            event("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                    "usage": {"output_tokens": usage["output_tokens"]}})  # fmt: skip
            event("message_stop", {})
            self.write_chunk(b"")

    def with_details(usage: dict[str, Any]) -> dict[str, Any]:
        return {
            **usage,
            "prompt_tokens_details": {
                "cached_tokens": usage["prompt_tokens"] // CACHED_SHARE,
                "audio_tokens": 0,
            },
            "completion_tokens_details": {"reasoning_tokens": REASONING_TOKENS, "audio_tokens": 0},
        }

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.latency_s = 0.0  # type: ignore[attr-defined]
    return server


# --- the app's calls -----------------------------------------------------------------------------


def openai_client(base_url: str) -> Any:
    import openai

    return openai.OpenAI(base_url=base_url + "/v1", api_key="sk-fake", max_retries=0)


def anthropic_client(base_url: str) -> Any:
    import anthropic

    return anthropic.Anthropic(base_url=base_url, api_key="sk-ant-fake", max_retries=0)


def messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}]


def ask_openai(client: Any) -> str:
    response = client.chat.completions.create(
        model=OPENAI_MODEL, messages=messages(QUESTIONS["openai"]), temperature=0.2, max_tokens=128
    )
    return str(response.choices[0].message.content)


def ask_openai_streaming(client: Any) -> str:
    stream = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=messages(QUESTIONS["openai_stream"]),
        temperature=0.2,
        max_tokens=128,
        stream=True,
        stream_options={"include_usage": True},
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def ask_anthropic(client: Any) -> str:
    response = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=128,
        system=SYSTEM_PROMPT,
        messages=[{"role": "user", "content": QUESTIONS["anthropic"]}],
    )
    return str(response.content[0].text)


def ask_anthropic_streaming(client: Any) -> str:
    stream = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=128,
        system=SYSTEM_PROMPT,
        messages=[{"role": "user", "content": QUESTIONS["anthropic_stream"]}],
        stream=True,
    )
    return "".join(
        event.delta.text
        for event in stream
        if event.type == "content_block_delta" and event.delta.type == "text_delta"
    )


# --- OpenTelemetry plumbing ----------------------------------------------------------------------


class Telemetry:
    """An SDK tracer provider and logger provider exporting into memory, set as the globals."""

    def __init__(self, *, export_spans: bool = True) -> None:
        from opentelemetry import _logs, trace
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        resource = Resource.create({"service.name": SERVICE_NAME})
        self.span_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(resource=resource)
        if export_spans:  # else the library adds its own processor with `span_exporter`
            self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.log_exporter = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))
        trace.set_tracer_provider(self.tracer_provider)
        _logs.set_logger_provider(self.logger_provider)

    def tracer(self) -> Any:
        return self.tracer_provider.get_tracer("support_bot")

    def write(self, output: Path, spans: list[Any] | None = None) -> None:
        from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()
        finished = list(self.span_exporter.get_finished_spans()) if spans is None else spans
        (output / "traces.pb").write_bytes(encode_spans(finished).SerializeToString())
        logs = list(self.log_exporter.get_finished_logs())
        if logs:
            (output / "logs.pb").write_bytes(encode_logs(logs).SerializeToString())


# --- one scenario per library --------------------------------------------------------------------


def otel_openai_v2(base_url: str, output: Path) -> None:
    """OpenTelemetry's own openai-v2 instrumentation; the content mode comes from the environment."""
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    telemetry = Telemetry()
    OpenAIInstrumentor().instrument(
        tracer_provider=telemetry.tracer_provider, logger_provider=telemetry.logger_provider
    )
    client = openai_client(base_url)
    with telemetry.tracer().start_as_current_span("support_turn"):
        ask_openai(client)
        ask_openai_streaming(client)
    telemetry.write(output)


def openllmetry(base_url: str, output: Path) -> None:
    """Traceloop's SDK (OpenLLMetry): its openai and anthropic instrumentations, workflow and task spans."""
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import task, workflow

    telemetry = Telemetry(export_spans=False)
    Traceloop.init(
        app_name=SERVICE_NAME,
        exporter=telemetry.span_exporter,
        disable_batch=True,
        telemetry_enabled=False,
        should_enrich_metrics=False,
        resource_attributes={"service.name": SERVICE_NAME},
    )
    Traceloop.set_association_properties({"session_id": SESSION_ID, "user_id": USER_ID})
    openai = openai_client(base_url)
    anthropic = anthropic_client(base_url)

    @task(name="answer")
    def answer(ask: Callable[[Any], str], client: Any) -> str:
        return ask(client)

    @workflow(name="support_turn")
    def support_turn() -> list[str]:
        return [
            answer(ask_openai, openai),
            answer(ask_openai_streaming, openai),
            answer(ask_anthropic, anthropic),
            answer(ask_anthropic_streaming, anthropic),
        ]

    support_turn()
    telemetry.write(output)


def openinference(base_url: str, output: Path) -> None:
    """Arize's OpenInference openai and anthropic instrumentations under a manual CHAIN span."""
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.anthropic import AnthropicInstrumentor
    from openinference.instrumentation.openai import OpenAIInstrumentor

    telemetry = Telemetry()
    OpenAIInstrumentor().instrument(tracer_provider=telemetry.tracer_provider)
    AnthropicInstrumentor().instrument(tracer_provider=telemetry.tracer_provider)
    openai = openai_client(base_url)
    anthropic = anthropic_client(base_url)
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID, tags=TAGS, metadata={"team": "support"}):
        with telemetry.tracer().start_as_current_span(
            "support_turn",
            attributes={"openinference.span.kind": "CHAIN", "input.value": QUESTIONS["openai"]},
        ) as parent:
            answers = [ask_openai(openai), ask_openai_streaming(openai), ask_anthropic(anthropic),
                       ask_anthropic_streaming(anthropic)]  # fmt: skip
            parent.set_attribute("output.value", answers[0])
    telemetry.write(output)


def openlit(base_url: str, output: Path) -> None:
    """OpenLIT's auto-instrumentation (openai and anthropic) under its @openlit.trace decorator."""
    import openlit as openlit_sdk

    telemetry = Telemetry()
    pricing = output / "pricing.json"
    pricing.write_text(json.dumps(OPENLIT_PRICES))
    openlit_sdk.init(
        application_name=SERVICE_NAME,
        environment="test",
        disable_metrics=True,
        pricing_json=str(pricing),
        capture_message_content=True,
    )
    pricing.unlink()
    openai = openai_client(base_url)
    anthropic = anthropic_client(base_url)

    @openlit_sdk.trace
    def support_turn() -> list[str]:
        return [ask_openai(openai), ask_openai_streaming(openai), ask_anthropic(anthropic),
                ask_anthropic_streaming(anthropic)]  # fmt: skip

    support_turn()
    telemetry.write(output)


def langfuse(base_url: str, output: Path) -> None:
    """Langfuse's OTel-based SDK: @observe, its OpenAI drop-in, and a manual Anthropic generation."""
    from langfuse import Langfuse, observe, propagate_attributes
    from langfuse.openai import OpenAI

    telemetry = Telemetry(export_spans=False)
    # The Langfuse client exports through its own span processor; the exporter given here is the
    # in-memory one, so nothing is sent anywhere.
    client = Langfuse(
        public_key="pk-lf-fake",
        secret_key="sk-lf-fake",
        base_url=base_url,
        tracer_provider=telemetry.tracer_provider,
        span_exporter=telemetry.span_exporter,
        flush_at=1,
    )
    openai = OpenAI(base_url=base_url + "/v1", api_key="sk-fake", max_retries=0)
    anthropic = anthropic_client(base_url)

    @observe(name="answer_with_claude", as_type="generation")
    def answer_with_claude() -> str:
        response = anthropic.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=128,
            system=SYSTEM_PROMPT,
            messages=[{"role": "user", "content": QUESTIONS["anthropic"]}],
        )
        text = str(response.content[0].text)
        client.update_current_generation(
            model=ANTHROPIC_MODEL,
            input=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": QUESTIONS["anthropic"]},
            ],
            output=text,
            usage_details={
                "input": response.usage.input_tokens,
                "output": response.usage.output_tokens,
                "cache_read_input_tokens": response.usage.cache_read_input_tokens,
            },
            cost_details=LANGFUSE_COST,
        )
        return text

    @observe(name="support_turn")
    def support_turn(question: str) -> list[str]:
        with propagate_attributes(session_id=SESSION_ID, user_id=USER_ID, tags=TAGS):
            return [ask_openai(openai), ask_openai_streaming(openai), answer_with_claude()]

    support_turn(QUESTIONS["openai"])
    client.flush()
    telemetry.write(output)


SCENARIOS: dict[str, tuple[Callable[[str, Path], None], tuple[str, ...]]] = {
    "otel-openai-v2": (otel_openai_v2, ("opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai")),
    "otel-openai-v2-latest": (otel_openai_v2, ("opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai")),
    "openllmetry": (openllmetry, ("traceloop-sdk", "opentelemetry-instrumentation-openai",
                                  "opentelemetry-instrumentation-anthropic")),
    "openllmetry-legacy": (openllmetry, ("traceloop-sdk", "opentelemetry-instrumentation-openai",
                                         "opentelemetry-instrumentation-anthropic")),
    "openinference": (openinference, ("openinference-instrumentation-openai",
                                      "openinference-instrumentation-anthropic", "openinference-semantic-conventions")),
    "openlit": (openlit, ("openlit",)),
    "langfuse": (langfuse, ("langfuse",)),
}  # fmt: skip


def main() -> None:
    library, output, repo_root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    scenario, packages = SCENARIOS[library]
    fake = load_fake_provider(repo_root)
    server = provider_server(fake)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    started = time.time()
    try:
        scenario(f"http://{host}:{port}", output)
    finally:
        server.shutdown()
    versions = {
        name: importlib.metadata.version(name)
        for name in (*packages, "openai", "anthropic", "opentelemetry-sdk")
    }
    environment = {key: value for key, value in os.environ.items() if key.startswith("OTEL_")}
    (output / "versions.json").write_text(
        json.dumps(
            {
                "library": library,
                "versions": versions,
                "environment": environment,
                "captured_at": int(started),
            },
            indent=2,
        )  # fmt: skip
    )


if __name__ == "__main__":
    main()
