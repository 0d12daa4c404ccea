"""The on-disk spool: what memory cannot hold during an outage and what shutdown could not deliver
waits there, bounded, and is replayed oldest first by whichever process comes next; a corrupt file
is skipped and counted; processes sharing the directory never send a file twice."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

import tokentrail
from tests.resilience.helpers import assert_accounted, emit, wait_for
from tests.resilience.sink import Reply, ScriptedSink, span_ids_of
from tests.support import ROOT
from tokentrail._spool import Spool, SpoolFileCorrupt

FAST_MS = 10


def _body(span_ids: list[bytes]) -> bytes:
    """A request body as the SDK spools it: a gzip-compressed ExportTraceServiceRequest."""
    spans = [Span(trace_id=os.urandom(16), span_id=span_id, name="spooled") for span_id in span_ids]
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])
    return gzip.compress(request.SerializeToString())


def _spool_files(directory: Path) -> list[str]:
    return Spool(directory, 1).pending_files()


def test_spans_left_at_shutdown_are_replayed_by_the_next_init(sink: ScriptedSink, spool_dir: Path) -> None:
    sink.default = Reply(503)
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS, max_export_batch_size=4)
    emitted = emit(10)
    wait_for(lambda: tokentrail.export_stats().retries >= 1, what="the outage")
    tokentrail.shutdown(timeout_s=2)
    stats = tokentrail.export_stats()
    assert (stats.spooled, stats.dropped, stats.exported) == (10, 0, 0)
    assert_accounted(stats)
    assert len(_spool_files(spool_dir)) == 3  # batches of 4, 4 and 2
    assert sink.delivered_span_ids() == []

    sink.default = Reply(200)
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    wait_for(lambda: tokentrail.export_stats().replayed == 10, what="the replay")
    assert sink.delivered_span_ids() == emitted  # oldest file first, each span once
    assert _spool_files(spool_dir) == []


def test_memory_moves_to_disk_during_an_outage_and_nothing_is_lost(
    sink: ScriptedSink, spool_dir: Path
) -> None:
    sink.default = Reply(503)
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS, max_queue_size=40, max_export_batch_size=10)
    emitted = emit(1)
    wait_for(lambda: tokentrail.export_stats().retries >= 1, what="the outage")
    for _ in range(20):
        emitted += emit(10)
        # Past 3/4 of the queue the worker moves the oldest spans to disk, down to 1/4.
        wait_for(lambda: tokentrail.export_stats().pending < 30, what="the spill")
    stats = tokentrail.export_stats()
    assert stats.spooled >= 150
    assert stats.dropped == 0

    sink.default = Reply(200)
    tokentrail.flush(timeout_s=20)  # cuts the back-off short; memory may still be moving to disk
    wait_for(lambda: tokentrail.export_stats().pending == 0, what="memory to empty")
    wait_for(
        lambda: tokentrail.export_stats().replayed == tokentrail.export_stats().spooled, what="the replay"
    )
    delivered = sink.delivered_span_ids()
    assert sorted(delivered) == sorted(emitted)  # every span, once
    stats = tokentrail.export_stats()
    assert stats.exported + stats.replayed == len(emitted) == stats.enqueued
    assert_accounted(stats)


def test_the_spool_is_bounded_and_what_does_not_fit_is_counted(closed_port_url: str, spool_dir: Path) -> None:
    tokentrail.init(
        endpoint=closed_port_url, schedule_delay_ms=FAST_MS, max_export_batch_size=10, spool_max_bytes=2_000
    )
    emit(100)
    tokentrail.shutdown(timeout_s=1)
    stats = tokentrail.export_stats()
    assert stats.spooled > 0 and stats.dropped_spool_full > 0
    assert stats.spooled + stats.dropped_spool_full == 100
    assert_accounted(stats)
    assert Spool(spool_dir, 2_000).usage_bytes() <= 2_000


def test_corrupt_and_half_files_are_skipped_and_counted(sink: ScriptedSink, spool_dir: Path) -> None:
    spool = Spool(spool_dir, 10_000_000)
    good = [os.urandom(8) for _ in range(3)]
    assert spool.write(b"not gzip at all")
    assert spool.write(_body(good))
    assert spool.write(_body([os.urandom(8)])[:-9])  # cut short: the gzip trailer is missing
    assert spool.write(gzip.compress(b"\xff\xff\xff garbage that is not protobuf"))
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    wait_for(lambda: list(spool_dir.iterdir()) == [], what="every file to be dealt with")
    stats = tokentrail.export_stats()
    assert (stats.spool_files_corrupt, stats.replayed) == (3, 3)
    assert "corrupt spool file skipped" in str(stats.last_export_error)
    assert sink.delivered_span_ids() == [span_id.hex() for span_id in good]


def test_a_file_the_collector_refuses_is_removed_and_counted(sink: ScriptedSink, spool_dir: Path) -> None:
    Spool(spool_dir, 10_000_000).write(_body([os.urandom(8), os.urandom(8)]))
    sink.default = Reply(400, message="not for us")
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    wait_for(lambda: tokentrail.export_stats().replay_rejected == 2, what="the refusal")
    assert _spool_files(spool_dir) == []


def test_a_file_refused_for_the_key_stays_for_a_process_with_the_right_one(
    sink: ScriptedSink, spool_dir: Path
) -> None:
    Spool(spool_dir, 10_000_000).write(_body([os.urandom(8)]))
    sink.default = Reply(401, message="unknown key")
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    wait_for(lambda: len(sink.arrivals) == 1, what="the attempt")
    emitted = emit(2)  # fresh spans are not held back by the spool
    sink.default = Reply(200)
    assert tokentrail.flush(timeout_s=10) is True
    assert sink.delivered_span_ids() == emitted
    assert len(_spool_files(spool_dir)) == 1


def test_spool_off_writes_nothing(
    closed_port_url: str, spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENTRAIL_SPOOL", "false")
    tokentrail.init(endpoint=closed_port_url, schedule_delay_ms=FAST_MS)
    emit(5)
    tokentrail.shutdown(timeout_s=0.5)
    stats = tokentrail.export_stats()
    assert (stats.spooled, stats.dropped_at_shutdown) == (0, 5)
    assert list(spool_dir.iterdir()) == []


def test_claims_are_exclusive_between_threads(tmp_path: Path) -> None:
    writer = Spool(tmp_path, 100_000_000)
    for index in range(200):
        writer.write(index.to_bytes(4, "big"))
    taken: list[list[str]] = [[], [], [], []]

    def drain(out: list[str]) -> None:
        spool = Spool(tmp_path, 100_000_000)  # one per "process": they share nothing but the folder
        while (claimed := spool.claim_next()) is not None:
            out.append(claimed.name)
            spool.delete(claimed)

    threads = [threading.Thread(target=drain, args=(out,)) for out in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = [name for out in taken for name in out]
    assert len(names) == len(set(names)) == 200
    assert list(tmp_path.iterdir()) == []


def test_a_released_claim_goes_back_first_and_a_stale_claim_is_taken_back(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1_000_000)
    spool.write(_body([b"\x01" * 8]))
    spool.write(_body([b"\x02" * 8]))
    first = spool.claim_next()
    assert first is not None
    spool.release(first)
    again = spool.claim_next()
    assert again is not None and again.name == first.name
    # A process that died holding a claim: once the claim is old, another process takes it back.
    os.utime(again.path, (0, 0))
    other = Spool(tmp_path, 1_000_000)
    names = []
    while (claimed := other.claim_next()) is not None:
        names.append(claimed.name)
        assert span_ids_of(other.read(claimed)[0])
        other.delete(claimed)
    assert names[0] == first.name and len(names) == 2


def test_reading_a_corrupt_file_raises_spool_file_corrupt(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1_000_000)
    spool.write(b"\x1f\x8b broken")
    claimed = spool.claim_next()
    assert claimed is not None
    with pytest.raises(SpoolFileCorrupt):
        spool.read(claimed)


def test_no_temporary_or_partial_file_is_ever_replayed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1_000_000)
    (tmp_path / ".tmp-123-abcd").write_bytes(b"half a batch")  # a crash during a write
    (tmp_path / "notes.txt").write_text("not ours")
    assert spool.claim_next() is None


_REPLAYER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import tokentrail

    endpoint, spool_dir, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.005)
    tokentrail.init(endpoint=endpoint, spool_dir=spool_dir, schedule_delay_ms=5)
    deadline = time.monotonic() + 60
    while any(Path(spool_dir).iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    print(tokentrail.export_stats().replayed)
    """
)


def test_two_processes_sharing_a_spool_never_send_a_file_twice(sink: ScriptedSink, tmp_path: Path) -> None:
    spool_dir = tmp_path / "shared"
    spool = Spool(spool_dir, 100_000_000)
    expected = []
    for _ in range(60):
        span_ids = [os.urandom(8) for _ in range(3)]
        expected += [span_id.hex() for span_id in span_ids]
        spool.write(_body(span_ids))
    sink.default = Reply(200, delay_s=0.02)  # both processes busy at the same time
    go = tmp_path / "go"
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _REPLAYER, sink.url, str(spool_dir), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    go.touch()
    replayed = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        replayed.append(int(out.strip()))
    delivered = sink.delivered_span_ids()
    assert len(delivered) == len(set(delivered)) == 180
    assert sorted(delivered) == sorted(expected)
    assert sum(replayed) == 180
    assert all(count > 0 for count in replayed), replayed  # both took part


def test_a_batch_stuck_in_a_request_at_shutdown_goes_to_the_spool(
    sink: ScriptedSink, spool_dir: Path
) -> None:
    release = threading.Event()
    sink.default = Reply(200, hold=release)
    try:
        tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS, max_export_batch_size=4)
        emitted = emit(10)
        wait_for(lambda: sink.holding == 1, what="the worker to be stuck in a request")
        tokentrail.shutdown(timeout_s=0.5)
        stats = tokentrail.export_stats()
        assert (stats.spooled, stats.exported, stats.dropped) == (10, 0, 0)
        assert_accounted(stats)
    finally:
        release.set()  # the stuck request now succeeds: its spans are in the spool as well
    wait_for(lambda: len(sink.arrivals) == 1, what="the late answer")
    assert tokentrail.export_stats() == stats  # the late outcome belongs to nobody now
    sink.default = Reply(200)
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS)
    wait_for(lambda: tokentrail.export_stats().replayed == 10, what="the replay")
    assert set(sink.delivered_span_ids()) == set(emitted)  # the 4 sent twice are stored once by the collector


def test_the_retry_after_an_outage_starts_with_the_spans_on_disk(sink: ScriptedSink) -> None:
    sink.script.append(Reply(429, headers={"Retry-After": "1"}))
    # A memory buffer of 2: during the outage every span moves to disk, memory ends up empty.
    tokentrail.init(endpoint=sink.url, schedule_delay_ms=FAST_MS, max_queue_size=2, max_export_batch_size=1)
    emitted = emit(1)
    wait_for(lambda: tokentrail.export_stats().retries == 1, what="the 429")
    emitted += emit(1)
    wait_for(lambda: tokentrail.export_stats().spooled == 2, what="the spill")
    # No flush: the worker's own retry, when due, sends what is on disk, oldest first.
    wait_for(lambda: tokentrail.export_stats().replayed == 2, what="the replay", timeout_s=10)
    assert sink.delivered_span_ids() == emitted
    assert sink.statuses() == [429, 200, 200]
