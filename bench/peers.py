"""tokentrail beside its peers, in one run: SDK overhead per decorated call and per instrumented openai
call (plain and streamed), then collector ingest beside Arize Phoenix (bench/peers_ingest.py).

Every SDK variant is a long-lived process in its own virtualenv (bench/peers/setup.sh makes the peers'
envs; tokentrail, raw OpenTelemetry and the bare baseline run in the project's venv), running the same
workload (bench/peers/workload.py) and exporting to one counting OTLP sink on loopback
(bench/peers/sink.py), so spans delivered can be set beside calls made. The driver sends one command
at a time, round after round, in rotating order, so that load from elsewhere on the shared machine
falls on every variant alike; only one variant runs at a time. A variant's overhead is the median over
rounds of (its µs per call minus the bare variant's in the same round); the bare variant runs in each
env whose `openai` version differs from the project's, and each variant is set beside the bare of its
own `openai` version.

    python bench/peers.py [--only sdk|ingest] [--observe-calls 22000] [--observe-rounds 5]
                          [--llm-calls 25] [--llm-rounds 30] [--ingest-requests 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from llm_call_overhead import free_port, start_fake_provider, wait_until_up
from peers_ingest import run_ingest

BENCH = Path(__file__).resolve().parent
PEER_ENVS = BENCH / ".peers"
PROJECT_PYTHON = Path(sys.executable)
# variant: (env name or None for the project's venv, packages whose versions are printed)
VARIANTS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "bare": (None, ("openai",)),
    "raw_otel": (None, ("opentelemetry-sdk",)),
    "tokentrail": (None, ("tokentrail",)),
    "langfuse": ("langfuse", ("langfuse", "openai")),
    "openlit": ("openlit", ("openlit", "openai")),
    "openllmetry": ("openllmetry", ("traceloop-sdk", "openai")),
    "openinference": ("openinference", ("openinference-instrumentation-openai", "openai")),
}


def python_of(env: str | None) -> Path:
    return PROJECT_PYTHON if env is None else PEER_ENVS / env / "bin" / "python"


def versions(env: str | None, packages: tuple[str, ...]) -> dict[str, str]:
    code = "import importlib.metadata as m, json, sys; print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    out = subprocess.run([python_of(env), "-c", code, *packages], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


class Runner:
    """One variant's process; stdout carries the protocol of bench/peers/workload.py."""

    def __init__(self, name: str, env: str | None, script: str, sink: str, provider: str, logs: Path):
        self.name = name
        self.log_path = logs / f"{name}.log"
        self.process = subprocess.Popen(
            [python_of(env), str(BENCH / "peers" / script), f"{sink}/{name}", provider],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("w"),
            text=True,
            env=os.environ | {"TRACELOOP_TELEMETRY": "false"},  # no usage reporting from OpenLLMetry
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(
                f"{name} did not start; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}"
            )

    def ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"{self.name} exited; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}"
            )
        return json.loads(line)


def rounds(runners: dict[str, Runner], command: str, count: int, times: int) -> dict[str, list[dict]]:
    names = list(runners)
    results: dict[str, list[dict]] = {name: [] for name in names}
    for number in range(times):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(runners[name].ask(f"{command} {count}"))
    return results


def overhead(results: dict[str, list[dict]], name: str, bare: str, key: str) -> float:
    pairs = zip(results[name], results[bare], strict=True)
    return statistics.median(mine[key] - base[key] for mine, base in pairs)


def load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def run_sdk(args: argparse.Namespace) -> None:
    present = {name: spec for name, spec in VARIANTS.items() if python_of(spec[0]).exists()}
    for name in VARIANTS.keys() - present.keys():
        print(f"{name}: not set up (run `bash bench/peers/setup.sh`); left out")
    found = {name: versions(env, packages) for name, (env, packages) in present.items()}
    project_openai = found["bare"]["openai"]
    bare_of: dict[str, str] = {}
    scripts: dict[str, tuple[str | None, str]] = {}
    for name, (env, _) in present.items():
        scripts[name] = (env, f"run_{name}.py")
        openai_version = found[name].get("openai", project_openai)
        bare_of[name] = "bare" if openai_version == project_openai else f"bare@{env}"
        if bare_of[name] != "bare":
            scripts[bare_of[name]] = (env, "run_bare.py")
    for name, found_versions in found.items():
        print(
            f"{name:14} " + " ".join(f"{package}=={version}" for package, version in found_versions.items())
        )

    sink_port = free_port()
    sink = subprocess.Popen([PROJECT_PYTHON, str(BENCH / "peers" / "sink.py"), "--port", str(sink_port)])
    sink_url = f"http://127.0.0.1:{sink_port}"
    wait_until_up(sink_url + "/counts", sink)
    provider, provider_url = start_fake_provider()
    logs = Path(tempfile.mkdtemp(prefix="tokentrail-peers-"))
    runners: dict[str, Runner] = {}
    try:
        for name, (env, script) in scripts.items():
            runners[name] = Runner(name, env, script, sink_url, provider_url, logs)
        print(f"runners started (logs in {logs}); {load()}", flush=True)
        measured = [name for name in present if name != "bare"]

        observed = rounds(runners, "observe", args.observe_calls, args.observe_rounds)
        print(
            f"\n@observe-style decorated call, {args.observe_calls:,}-call bursts, {args.observe_rounds} rounds; {load()}"
        )
        table(observed, measured, bare_of)

        llm: dict[str, dict[str, list[dict]]] = {}
        for number in range(args.llm_rounds):  # plain and streamed alternate round by round
            for command in ("create", "stream") if number % 2 == 0 else ("stream", "create"):
                for name, values in rounds(runners, command, args.llm_calls, 1).items():
                    llm.setdefault(command, {}).setdefault(name, []).extend(values)
        for command, label in (("create", "chat.completions.create"), ("stream", "create(stream=True)")):
            print(f"\n{label}, {args.llm_calls} calls x {args.llm_rounds} rounds per variant; {load()}")
            table(llm[command], measured, bare_of)

        calls = {name: runner.ask("quit")["calls"] for name, runner in runners.items()}
        time.sleep(2)  # exporters that post on shutdown
        with urllib.request.urlopen(sink_url + "/counts") as response:  # noqa: S310 - loopback
            delivered = json.load(response)
        print("\nspans delivered to the sink / calls made (warm-up included)")
        for name in measured:
            made = calls[name]
            llm_calls = made.get("create", 0) + made.get("stream", 0)
            print(
                f"  {name:14} decorated {delivered.get(f'{name}.decorated', 0):>9,} / {made['observe']:>9,}"
                f"   openai {delivered.get(f'{name}.llm', 0):>6,} / {llm_calls:>6,}"
                f"   export requests {delivered.get(f'{name}.requests', 0):,}"
            )
    finally:
        for runner in runners.values():
            runner.process.kill()
        provider.terminate()
        sink.terminate()


def table(results: dict[str, list[dict]], measured: list[str], bare_of: dict[str, str]) -> None:
    raw = {key: overhead(results, "raw_otel", bare_of["raw_otel"], key) for key in ("wall_us", "cpu_us")}
    print(f"  {'variant':14} {'wall us/call':>12} {'x raw OTel':>10} {'cpu us/call':>12} {'x raw OTel':>10}")
    print(
        f"  {'bare':14} {statistics.median(r['wall_us'] for r in results['bare']):12.1f}"
        f" {'':>10} {statistics.median(r['cpu_us'] for r in results['bare']):12.1f}   (the call itself)"
    )
    for name in measured:
        wall = overhead(results, name, bare_of[name], "wall_us")
        cpu = overhead(results, name, bare_of[name], "cpu_us")
        print(
            f"  {name:14} {wall:12.1f} {wall / raw['wall_us']:9.2f}x {cpu:12.1f} {cpu / raw['cpu_us']:9.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("sdk", "ingest"))
    parser.add_argument("--observe-calls", type=int, default=22_000)
    parser.add_argument("--observe-rounds", type=int, default=5)
    parser.add_argument("--llm-calls", type=int, default=25)
    parser.add_argument("--llm-rounds", type=int, default=30)
    parser.add_argument(
        "--ingest-requests", type=int, default=2, help="300-span requests per sender (16 senders)"
    )
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, {load()}")
    if args.only in (None, "sdk"):
        run_sdk(args)
    if args.only in (None, "ingest"):
        run_ingest(args.ingest_requests)


if __name__ == "__main__":
    main()
