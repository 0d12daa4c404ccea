"""Every bench script runs, at its smallest size, and still prints its figures.

The bench scripts are not imported by anything else, so a change to code they use (a helper of
tests/support.py, a store's columns, stats_query's FILL that ui_render reuses) can break them with
no test noticing: bench/ui_render.py once stayed broken for two weeks that way. Each script runs
here as `python bench/<script>.py` from the repository root with the project's interpreter, as a
person runs it, with the smallest arguments it accepts; the test fails on a non-zero exit, a hang,
a figure line missing from its output, or a file left behind in the repository.

bench/peers.py and bench/peers_ingest.py need the peers' virtualenvs (bench/peers/setup.sh) to
run; here they only have to import and parse their arguments (`--help`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tokentrail_collector.analysis.formats import FORMATS

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
NUMBER = r"-?[\d,]+(?:\.\d+)?"  # as the scripts print them: 1,234 or -12.5


@dataclass(frozen=True)
class BenchRun:
    """One script, its smallest arguments, and the lines its output must hold (regexes, multiline)."""

    script: str
    args: tuple[str, ...]
    figures: tuple[str, ...]
    timeout_s: float = 120


STATS_CALLS = (
    r"stats p50/p95/p99 per model per hour, all data",
    r"stats per model, totals",
    r"trace list, first page",
    r"trace list, last 1 h",
    r"single trace",
    r"trace list, text search \(a word of every trace\)",
    r"trace list, text search \(no match\)",
)
UI_PAGES = ("Overview", "Traces", "GPU", "Drift", "Datasets", "Settings")

RUNS = (
    BenchRun(
        "observe_overhead.py",
        ("--calls", "200", "--rounds", "1"),
        (
            rf"^bare function:\s+{NUMBER} us/call$",
            rf"^raw OpenTelemetry span:\s+{NUMBER} us/call overhead$",
            rf"^tokentrail @observe:\s+{NUMBER} us/call overhead\s+\({NUMBER}x raw OTel\)$",
            r"^tokentrail export stats:\s+ExportStats\(enqueued=\d+, exported=\d+",
        ),
    ),
    BenchRun(
        "llm_call_overhead.py",
        ("--calls", "1", "--rounds", "1"),
        (
            r"^openai [\d.]+, exporting to a collector \(chDB\)$",
            *(
                rf"^chat\.completions\.{mode}\n"
                rf"  bare call:\s+{NUMBER} us/call wall,\s+{NUMBER} us/call cpu\n"
                rf"  raw OpenTelemetry span:\s+{NUMBER} us/call wall,\s+{NUMBER} us/call cpu  \(overhead\)\n"
                rf"  tokentrail instrumented:\s+{NUMBER} us/call wall,\s+{NUMBER} us/call cpu  \(overhead\)$"
                for mode in (r"create", r"create\(stream=True\)")
            ),
            r"^tokentrail export stats: ExportStats\(enqueued=\d+",
        ),
    ),
    BenchRun(
        "outage_latency.py",
        ("--calls", "100", "--rounds", "1"),
        (
            rf"^@observe, collector up:\s+{NUMBER} us/call overhead$",
            *(
                rf"^@observe, collector down \({mode}\):\s+{NUMBER} us/call overhead"
                rf"\s+\({NUMBER}x collector up\)$"
                for mode in ("refused", "hung")
            ),
            *(
                rf"^  {mode}\s+\{{'enqueued': \d+, 'exported': \d+, 'spooled': \d+, .*\}}  losses: "
                for mode in ("up", r"down \(refused\)", r"down \(hung\)")
            ),
        ),
    ),
    BenchRun(
        "gpu_sampler_cost.py",
        ("--devices", "1", "--seconds", "0.2"),
        (
            rf"^\s+1 device: thread {NUMBER} ms CPU/s \({NUMBER} % of a core, \d+ samples\); "
            rf"{NUMBER} µs CPU per sample$",
            rf"^  window\(\) per span end, 1 device\(s\), 10-min history: {NUMBER} µs$",
        ),
    ),
    BenchRun(
        "ingest.py",
        ("--spans-per-request", "1", "--requests-per-sender", "1", "--senders", "1"),
        (
            rf"^senders= 1  spans/request=1  ~\d+ B/span  committed\s+{NUMBER} spans/s  "
            rf"ack p50 \d+ ms  p99 \d+ ms  failed requests 0  collector CPU \d+ µs/span  "
            rf"RSS \d+ MiB \(peak \d+ MiB\)$",
            r"^acknowledged (\d+) spans, store counts \1$",
        ),
    ),
    BenchRun(
        "stats_query.py",
        ("--spans", "1000", "--repeat", "1", "--search-repeat", "1"),
        (
            rf"^filled 1,000 spans in {NUMBER}s$",
            r"^1,000 spans, \d+ bytes on disk per span$",
            *(
                rf"^  {call}\s+this\s+median\s+{NUMBER} ms\s+p95\s+{NUMBER} ms\s+\(1 calls\)$"
                for call in STATS_CALLS
            ),
        ),
    ),
    BenchRun(
        "drift.py",
        ("--sizes", "100", "--repeat", "1", "--samples", "10"),
        (
            r"^spans/side\s+seed s\s+numeric ms\s+categorical ms\s+all 11 ms\s+topics s=10 ms$",
            rf"^\s+100\s+{NUMBER}(?:\s+{NUMBER}){{4}}   moved: .*; topics \w+$",
        ),
    ),
    BenchRun(
        "dataset_mining.py",
        ("--spans", "100", "--repeat", "1"),
        (
            rf"^filled 100 spans in {NUMBER} s$",
            r"^read 100 candidate spans: \d+ ms$",
            r"^read the spans above p95 latency \(of 100\): \d+ ms$",
            r"^dedupe 100 prompts: \d+ ms \(\d+ exact, \d+ near duplicates\)$",
            *(rf"^{re.escape(fmt)}: export \d+ items \d+ ms \(\d+ KiB\), import \d+ ms$" for fmt in FORMATS),
        ),
    ),
    BenchRun(
        "ui_render.py",
        ("--spans", "1000", "--repeat", "1", "--gpus", "1"),
        (
            r"^filled [\d,]+ spans \([\d,]+ with GPU figures\) and [\d,]+ GPU gauge points \(1 devices\)",
            r"^1,000 spans; AppTest sessions, 1 warm runs per page",
            *(
                rf"^  {page}\s+cold\s+{NUMBER} s\s+warm median\s+{NUMBER} s\s+warm max\s+{NUMBER} s$"
                for page in UI_PAGES
            ),
        ),
        timeout_s=180,
    ),
    BenchRun("peers.py", ("--help",), (r"^usage: peers\.py ", r"--observe-calls")),
    BenchRun("peers_ingest.py", ("--help",), (r"^usage: peers_ingest\.py ", r"--requests-per-sender")),
)


def repo_entries() -> set[str]:
    """What a bench script could leave behind: the repository root's entries and the files under
    bench/ (less the peers' envs and bytecode caches, which other runs may make meanwhile)."""
    entries = {entry.name for entry in ROOT.iterdir()}
    for folder, subfolders, files in os.walk(BENCH):
        subfolders[:] = [name for name in subfolders if name not in (".peers", "__pycache__")]
        entries.update(str(Path(folder, name).relative_to(ROOT)) for name in files)
    return entries


def run_script(run: BenchRun, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`python bench/<script> <args>` from the repository root, its temporary files (chDB stores,
    collector logs, spools) in `tmp_path`. It runs in its own process group, so that on a timeout
    the collectors and providers it started end with it."""
    env = os.environ | {"TMPDIR": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, str(Path("bench", run.script)), *run.args]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=run.timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{run.script} ran past {run.timeout_s} s\nstdout:\n{stdout}\nstderr:\n{stderr[-4000:]}")
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything it started and left running
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.parametrize("run", RUNS, ids=[run.script.removesuffix(".py") for run in RUNS])
def test_bench_script_runs_and_prints_its_figures(run: BenchRun, tmp_path: Path) -> None:
    before = repo_entries()
    done = run_script(run, tmp_path)
    exit_code = done.returncode
    assert exit_code == 0, f"{run.script} exited {exit_code}:\n{done.stdout}\n{done.stderr[-4000:]}"
    missing = [figure for figure in run.figures if not re.search(figure, done.stdout, re.MULTILINE)]
    assert not missing, f"{run.script} did not print {missing}; it printed:\n{done.stdout}"
    left = repo_entries() - before
    assert not left, f"{run.script} left {sorted(left)} in the repository"
