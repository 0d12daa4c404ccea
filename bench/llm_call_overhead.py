"""Per-call overhead of an instrumented `chat.completions.create`, plain and streamed, against the fake provider.

The real `openai` client calls examples/fake_provider.py, run as its own process on loopback with no
simulated latency. Three variants run interleaved in every round, in rotating order:
  bare        the call, not instrumented;
  raw_otel    the call inside a manual raw-OpenTelemetry span (model, provider, usage, finish reason
              set by hand), exported by a BatchSpanProcessor through the OTLP/HTTP exporter;
  tokentrail  the call auto-instrumented (`tokentrail.instrument("openai")`, content capture on).
Both exporters send to a running collector (started here on a temporary chDB directory), or, when it
cannot start or with `--sink`, to a no-op OTLP/HTTP sink in its own process. Rounds are short and
many, so that load from elsewhere on the machine falls on all three variants alike; the figure per
variant is the median over rounds of its µs per call minus the bare call's in the same round, as wall
time (the app's latency) and as CPU time of the whole process (exporting the spans included).

    python bench/llm_call_overhead.py [--calls 25] [--rounds 80] [--sink]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _collector import start_collector
from openai import OpenAI
from openai import __version__ as openai_version
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

import tokentrail
from tests.support import free_port
from tokentrail import semconv

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "Answer the customer's question from the context only."},
    {"role": "user", "content": "How do I reset my password?"},
]


# --- the processes the app talks to ----------------------------------------------------------------


def start_fake_provider() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    script = ROOT / "examples" / "fake_provider.py"
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", str(port), "--latency", "0"], stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/v1"
    wait_until_up(url + "/models", process)
    return process, url


def serve_sink(port: int) -> None:
    class Sink(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")  # an empty ExportTraceServiceResponse
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()


def start_sink() -> tuple[multiprocessing.Process, str]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(target=serve_sink, args=(port,), daemon=True)
    process.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/healthz", process)
    return process, url


def wait_until_up(url: str, process: object, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{process} did not answer on {url}")


# --- the calls -----------------------------------------------------------------------------------


def plain_call(client: OpenAI) -> Callable[[], None]:
    def call() -> None:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=128)

    return call


def streamed_call(client: OpenAI) -> Callable[[], None]:
    def call() -> None:
        stream = client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            temperature=0.2,
            max_tokens=128,
            stream=True,
            stream_options={"include_usage": True},
        )
        for _ in stream:
            pass

    return call


def in_raw_span(tracer_provider: TracerProvider, client: OpenAI, streaming: bool) -> Callable[[], None]:
    """The same call inside a hand-written raw-OpenTelemetry span with the essential attributes."""
    tracer = tracer_provider.get_tracer("bench")

    def call() -> None:
        with tracer.start_as_current_span(f"chat {MODEL}", kind=SpanKind.CLIENT) as span:
            span.set_attribute(semconv.GEN_AI_OPERATION_NAME, "chat")
            span.set_attribute(semconv.GEN_AI_PROVIDER_NAME, "openai")
            span.set_attribute(semconv.GEN_AI_REQUEST_MODEL, MODEL)
            span.set_attribute(semconv.GEN_AI_REQUEST_TEMPERATURE, 0.2)
            if not streaming:
                response = client.chat.completions.create(
                    model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=128
                )
                usage, finish, model = response.usage, response.choices[0].finish_reason, response.model
            else:
                usage = finish = model = None
                stream = client.chat.completions.create(
                    model=MODEL,
                    messages=MESSAGES,
                    temperature=0.2,
                    max_tokens=128,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                for chunk in stream:
                    model = chunk.model
                    usage = chunk.usage or usage
                    if chunk.choices and chunk.choices[0].finish_reason:
                        finish = chunk.choices[0].finish_reason
            span.set_attribute(semconv.GEN_AI_RESPONSE_MODEL, model or "")
            span.set_attribute(semconv.GEN_AI_RESPONSE_FINISH_REASONS, (finish or "",))
            if usage is not None:
                span.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, usage.prompt_tokens)
                span.set_attribute(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, usage.completion_tokens)

    return call


def paired_overhead(values: list[float], bare: list[float]) -> float:
    return statistics.median(value - base for value, base in zip(values, bare, strict=True))


def burst(call: Callable[[], None], calls: int, flush: Callable[[], object]) -> tuple[float, float]:
    """(wall µs per call, process CPU µs per call): the wall time of the calls as the app sees it;
    the CPU time of all the process's threads over the calls and the export of their spans."""
    cpu_started = time.process_time()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    wall = time.perf_counter() - started
    flush()
    return wall / calls * 1e6, (time.process_time() - cpu_started) / calls * 1e6


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=25, help="calls per variant per round")
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("--sink", action="store_true", help="export to a no-op OTLP sink, not a collector")
    args = parser.parse_args()

    provider_process, base_url = start_fake_provider()
    collector = sink = None
    try:
        if args.sink:
            sink, endpoint, key, target = *start_sink(), "", "no-op OTLP sink"
        else:
            try:
                collector, key = start_collector()
                endpoint, target = collector.url, "collector (chDB)"
            except RuntimeError as error:
                print(f"collector did not start ({str(error).splitlines()[0]}); using a no-op OTLP sink")
                sink, endpoint, key, target = *start_sink(), "", "no-op OTLP sink"
        headers = {"Authorization": f"Bearer {key}"} if key else {}

        tokentrail.init(endpoint=endpoint, api_key=key or None, service_name="bench-llm-call")
        raw_provider = TracerProvider()
        raw_processor = BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint + "/v1/traces", headers=headers)
        )
        raw_provider.add_span_processor(raw_processor)
        client = OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)

        modes = {
            "create": (plain_call(client), in_raw_span(raw_provider, client, False)),
            "create(stream=True)": (streamed_call(client), in_raw_span(raw_provider, client, True)),
        }

        def flush_raw() -> None:
            raw_processor.force_flush()

        def flush_ours() -> None:
            tokentrail.flush(timeout_s=60)

        for call, raw in modes.values():  # warm up connections, imports, caches
            tokentrail.instrument("openai")
            burst(call, 20, flush_ours)
            tokentrail.uninstrument("openai")
            burst(call, 20, flush_ours)
            burst(raw, 20, flush_raw)

        variants = ("bare", "raw_otel", "tokentrail")
        wall: dict[str, dict[str, list[float]]] = {
            mode: {variant: [] for variant in variants} for mode in modes
        }
        cpu: dict[str, dict[str, list[float]]] = {
            mode: {variant: [] for variant in variants} for mode in modes
        }
        for round_number in range(args.rounds):
            for mode, (call, raw) in modes.items():
                order = variants[round_number % 3 :] + variants[: round_number % 3]
                for variant in order:
                    if variant == "tokentrail":
                        tokentrail.instrument("openai")
                        figures = burst(call, args.calls, flush_ours)
                        tokentrail.uninstrument("openai")
                    elif variant == "raw_otel":
                        figures = burst(raw, args.calls, flush_raw)
                    else:
                        figures = burst(call, args.calls, flush_ours)
                    wall[mode][variant].append(figures[0])
                    cpu[mode][variant].append(figures[1])

        print(f"openai {openai_version}, exporting to a {target}")
        print(
            f"calls per variant per round: {args.calls}, rounds: {args.rounds}; overhead = median over rounds"
        )
        print(
            "of (variant - bare call) in the same round; wall: the app's latency; cpu: all threads, export included"
        )
        for mode in modes:
            print(f"\nchat.completions.{mode}")
            print(
                f"  bare call:                {statistics.median(wall[mode]['bare']):8.1f} us/call wall, "
                f"{statistics.median(cpu[mode]['bare']):8.1f} us/call cpu"
            )
            for variant, label in (
                ("raw_otel", "raw OpenTelemetry span:"),
                ("tokentrail", "tokentrail instrumented:"),
            ):
                wall_overhead = paired_overhead(wall[mode][variant], wall[mode]["bare"])
                cpu_overhead = paired_overhead(cpu[mode][variant], cpu[mode]["bare"])
                print(
                    f"  {label:25} {wall_overhead:8.1f} us/call wall, {cpu_overhead:8.1f} us/call cpu  (overhead)"
                )
        print(f"\ntokentrail export stats: {tokentrail.export_stats()}")
        raw_provider.shutdown()
    finally:
        tokentrail.shutdown()
        provider_process.terminate()
        provider_process.wait(10)
        if collector is not None:
            collector.stop()
        if sink is not None:
            sink.terminate()


if __name__ == "__main__":
    main()
