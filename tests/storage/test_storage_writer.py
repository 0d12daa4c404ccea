"""Group commit: few inserts for many requests, acknowledgement only after commit, back-pressure."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest

from tokentrail import semconv as sc
from tokentrail_collector.storage import GroupCommitWriter, Overloaded, Store, StoreUnavailable

SpanFactory = Callable[..., dict[str, object]]


def _visible(store: Store, project: str, span_ids: Sequence[object]) -> int:
    result = store.query(
        "SELECT count() FROM spans FINAL WHERE project_id = {p:String} AND span_id IN {ids:Array(String)}",
        {"p": project, "ids": list(span_ids)},
    )
    return int(result.result_rows[0][0])


@pytest.fixture
def writer(store: Store) -> Iterator[GroupCommitWriter]:
    started = GroupCommitWriter(store, max_linger_ms=20)
    started.start()
    yield started
    started.stop(10)


class SlowStore:
    """A store stand-in whose insert takes a while, to observe the writer from outside."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.batches: list[int] = []
        self.release = threading.Event()
        self.release.set()

    def insert_spans(self, rows: Sequence[Mapping[str, object]]) -> None:
        self.release.wait()
        time.sleep(self.delay_s)
        self.batches.append(len(rows))


async def test_concurrent_requests_share_inserts_and_return_after_commit(
    store: Store, writer: GroupCommitWriter, make_span: SpanFactory, project: str
) -> None:
    requests_per_sender = 5
    not_visible_at_return: list[int] = []

    async def sender(index: int) -> None:
        for _ in range(requests_per_sender):
            rows = [make_span(service_name=f"sender-{index}") for _ in range(30)]
            await writer.submit(rows)
            # Acknowledged means committed: the rows are readable right now (read off the loop,
            # so that the other senders keep submitting meanwhile).
            ids = [row[sc.SPAN_ID] for row in rows]
            missing = len(rows) - await asyncio.to_thread(_visible, store, project, ids)
            not_visible_at_return.append(missing)

    before = writer.stats()
    await asyncio.gather(*(sender(i) for i in range(16)))
    after = writer.stats()

    requests = 16 * requests_per_sender
    assert not_visible_at_return == [0] * requests
    assert after.requests_committed - before.requests_committed == requests
    assert after.rows_committed - before.rows_committed == requests * 30
    assert after.batches_committed - before.batches_committed <= requests
    assert after.pending_rows == 0
    assert after.last_commit_latency_ms is not None
    [row] = store.query(
        "SELECT count() FROM spans FINAL WHERE project_id = {p:String}", {"p": project}
    ).result_rows
    assert row[0] == requests * 30

    # One wave of concurrent requests shares inserts: the rows queued while one commit runs
    # (or within the linger time) go out together.
    before = writer.stats()
    await asyncio.gather(*(writer.submit([make_span() for _ in range(30)]) for _ in range(16)))
    inserts = writer.stats().batches_committed - before.batches_committed
    assert inserts <= 4, inserts


async def test_overloaded_when_pending_rows_would_exceed_the_cap(make_span: SpanFactory) -> None:
    slow = SlowStore(delay_s=0.0)
    slow.release.clear()  # hold the first commit
    writer = GroupCommitWriter(slow, max_pending_rows=10, max_linger_ms=0)  # type: ignore[arg-type]
    writer.start()
    try:
        first = asyncio.ensure_future(writer.submit([make_span() for _ in range(6)]))
        await asyncio.sleep(0.05)
        with pytest.raises(Overloaded) as raised:
            await writer.submit([make_span() for _ in range(5)])
        assert raised.value.retry_after_s >= 1.0
        with pytest.raises(Overloaded):
            await writer.submit([make_span() for _ in range(11)])  # bigger than the cap by itself
        stats = writer.stats()
        assert stats.rejected_requests == 2
        assert stats.pending_rows == 6
        slow.release.set()
        await first
        assert writer.stats().pending_rows == 0
    finally:
        slow.release.set()
        writer.stop(5)


async def test_a_failed_insert_fails_every_request_of_its_batch_and_writes_nothing(
    store: Store, make_span: SpanFactory, project: str
) -> None:
    writer = GroupCommitWriter(store, max_linger_ms=300)
    writer.start()
    try:
        good = [make_span() for _ in range(10)]
        bad = [make_span(input_tokens="not a number")]
        results = await asyncio.gather(writer.submit(good), writer.submit(bad), return_exceptions=True)
        assert [type(result) for result in results] == [StoreUnavailable, StoreUnavailable]
        assert results[0] is not results[1]
        assert _visible(store, project, [row[sc.SPAN_ID] for row in good + bad]) == 0
        stats = writer.stats()
        assert (stats.failed_batches, stats.failed_rows, stats.batches_committed) == (1, 11, 0)

        # The writer goes on with later batches.
        await writer.submit(good)
        assert _visible(store, project, [row[sc.SPAN_ID] for row in good]) == 10
    finally:
        writer.stop(5)


async def test_a_closed_store_fails_the_batch(store_url: str, make_span: SpanFactory, project: str) -> None:
    closed = Store.open(store_url)
    closed.close()
    writer = GroupCommitWriter(closed, max_linger_ms=100)
    writer.start()
    try:
        results = await asyncio.gather(
            *(writer.submit([make_span()]) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(result, StoreUnavailable) for result in results)
        assert writer.stats().failed_batches == 1
    finally:
        writer.stop(5)


async def test_the_event_loop_keeps_running_during_a_commit(make_span: SpanFactory) -> None:
    slow = SlowStore(delay_s=0.3)
    writer = GroupCommitWriter(slow, max_linger_ms=0)  # type: ignore[arg-type]
    writer.start()
    try:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        started = time.monotonic()
        await writer.submit([make_span()])
        elapsed = time.monotonic() - started
        task.cancel()
        assert elapsed >= 0.3  # not acknowledged before the insert finished
        assert ticks >= 10  # the loop ran meanwhile
    finally:
        writer.stop(5)


def test_submit_blocking_and_stop_commit_what_is_pending(
    store: Store, make_span: SpanFactory, project: str
) -> None:
    writer = GroupCommitWriter(store, max_linger_ms=50)
    writer.start()
    rows = [[make_span() for _ in range(20)] for _ in range(8)]
    errors: list[BaseException] = []

    def submit(batch: list[dict[str, object]]) -> None:
        try:
            writer.submit_blocking(batch, timeout_s=30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(batch,)) for batch in rows]
    for thread in threads:
        thread.start()
    time.sleep(0.01)
    assert writer.stop(30) is True  # commits the pending rows before returning
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert _visible(store, project, [row[sc.SPAN_ID] for batch in rows for row in batch]) == 160

    with pytest.raises(StoreUnavailable, match="not running"):
        writer.submit_blocking([make_span()])


async def test_linger_ends_when_requests_stop_coming_but_inserts_stay_spaced(make_span: SpanFactory) -> None:
    slow = SlowStore(delay_s=0.0)
    writer = GroupCommitWriter(slow, max_linger_ms=400)  # type: ignore[arg-type]
    writer.start()
    try:
        started = time.monotonic()
        await writer.submit([make_span()])
        assert time.monotonic() - started < 0.2  # a lone request does not wait the whole linger
        await writer.submit([make_span()])
        assert time.monotonic() - started >= 0.4  # the next insert starts a linger later
        assert slow.batches == [1, 1]
    finally:
        writer.stop(5)


async def test_empty_submissions_return_at_once(writer: GroupCommitWriter) -> None:
    before = writer.stats()
    await writer.submit([])
    writer.submit_blocking([])
    assert writer.stats() == before


def test_arguments_are_checked(store: Store) -> None:
    with pytest.raises(ValueError):
        GroupCommitWriter(store, max_batch_rows=0)
