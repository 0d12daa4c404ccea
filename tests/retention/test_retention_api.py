"""Retention through a real collector: telemetry sent over OTLP with past timestamps, a pass run on
demand, and what is left read back through the query API, /metrics and the collector's log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from tests.ingest.otlp_bodies import (
    chat_records,
    committed,
    gauge,
    llm_span,
    logs_request,
    metrics_request,
    traces_request,
)
from tests.security.conftest import parse_prometheus, sample
from tests.support import CollectorProcess

DAY_NS = 86_400 * 1_000_000_000
AGES_DAYS = (400, 100, 40, 1)  # one trace per project and age
PROJECTS = ("ret-default", "ret-year", "ret-forever")


@pytest.fixture(scope="module")
def retained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector with the default of 30 days, whose own passes never come during the tests."""
    data_dir: Path = tmp_path_factory.mktemp("retention") / "data"
    env = {
        "TOKENTRAIL_RETENTION_DAYS": "30",
        "TOKENTRAIL_RETENTION_FIRST_DELAY_S": "86400",
        "TOKENTRAIL_RETENTION_INTERVAL_S": "86400",
        "TOKENTRAIL_LOG_LEVEL": "info",
    }
    process = CollectorProcess(data_dir, env=env).start()
    try:
        yield process
    finally:
        process.stop()


def trace_id(project: str, age_days: int) -> str:
    return f"{PROJECTS.index(project) + 1:08x}{age_days:024x}"


@pytest.fixture(scope="module")
def keys(retained: CollectorProcess) -> dict[str, str]:
    """Each project's key, after storing spans, GenAI log records, GPU points and scores of every age."""
    now_ns = time.time_ns()
    made = {project: retained.create_key(project)["key"] for project in PROJECTS}
    for project, key in made.items():
        with retained.client(key) as client:
            spans, records, points = [], [], []
            for age in AGES_DAYS:
                start = now_ns - age * DAY_NS
                tid, sid = trace_id(project, age), f"{age:016x}"
                spans.append(llm_span(tid, sid, start_ns=start))
                records += chat_records(tid, sid, "question", "answer")
                points.append((None, start, 0.5))
            committed(client, traces_request(*spans))
            for record in records:  # chat_records stamps them at a fixed time: move them to the span's
                age = int(record.trace_id.hex()[8:], 16)
                record.time_unix_nano = now_ns - age * DAY_NS + 1
            committed(client, logs_request(*records))
            committed(client, metrics_request(gauge("tokentrail.gpu.utilization", "1", points)))
            scores = [
                {"trace_id": trace_id(project, age), "name": "quality", "value": 1.0,
                 "timestamp": _iso(now_ns - age * DAY_NS)}
                for age in AGES_DAYS
            ]  # fmt: skip
            assert client.post("/api/scores", json=scores).status_code == 200
    return made


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat()


def kept_ages(collector: CollectorProcess, key: str, project: str) -> list[int]:
    """The ages (days) whose trace is still readable in `project`."""
    with collector.client(key) as client:
        found = []
        for age in AGES_DAYS:
            response = client.get(f"/api/traces/{trace_id(project, age)}")
            assert response.status_code in (200, 404), response.text
            if response.status_code == 200:
                found.append(age)
        return found


def scored_ages(collector: CollectorProcess, key: str, project: str) -> list[int]:
    with collector.client(key) as client:
        scores = client.get("/api/scores", params={"limit": 1000}).json()["scores"]
    return sorted({int(score["trace_id"][8:], 16) for score in scores}, reverse=True)


def run_pass(admin: httpx.Client) -> dict:
    response = admin.post("/api/admin/retention/run")
    assert response.status_code == 200, response.text
    return response.json()


def set_days(admin: httpx.Client, project: str, days: int) -> dict:
    response = admin.put(f"/api/admin/projects/{project}/retention", json={"days": days})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_pass_removes_each_projects_expired_telemetry_and_keeps_the_rest(
    retained: CollectorProcess, keys: dict[str, str]
) -> None:
    for project in PROJECTS:
        assert kept_ages(retained, keys[project], project) == list(AGES_DAYS)
    with retained.admin() as admin:
        assert set_days(admin, "ret-year", 365)["source"] == "project"
        assert set_days(admin, "ret-forever", 0)["days"] == 0
        default = admin.get("/api/admin/projects/ret-default/retention").json()
        assert default == {"project_id": "ret-default", "days": 30, "source": "default",
                           "default_days": 30, "updated_at": None}  # fmt: skip
        result = run_pass(admin)

    assert kept_ages(retained, keys["ret-default"], "ret-default") == [1]
    assert kept_ages(retained, keys["ret-year"], "ret-year") == [100, 40, 1]
    assert kept_ages(retained, keys["ret-forever"], "ret-forever") == list(AGES_DAYS)
    assert scored_ages(retained, keys["ret-default"], "ret-default") == [1]
    assert scored_ages(retained, keys["ret-forever"], "ret-forever") == list(AGES_DAYS)

    tables = {table["table"]: table for table in result["tables"]}
    # default: 400, 100 and 40 days old; one year: 400. A row of each age in every table but drift's.
    for table in ("spans", "gpu_metrics", "scores"):
        assert tables[table]["rows_removed"] == 4, (table, tables[table])
    assert tables["span_content"]["rows_removed"] == 4 * 2  # two records per span
    assert tables["drift_results"]["rows_removed"] == 0
    assert tables["spans"]["partitions_dropped"] == 0  # a project keeps everything: no month is empty
    assert tables["spans"]["deleted_by_project"] == {"ret-default": 3, "ret-year": 1}
    assert result["rows_removed"] == 4 * 3 + 8

    metrics = parse_prometheus(httpx.get(retained.url + "/metrics", timeout=10).text)
    assert sample(metrics, "tokentrail_retention_rows_removed_total", table="spans") == 4
    assert sample(metrics, "tokentrail_retention_rows_removed_total", table="span_content") == 8
    assert sample(metrics, "tokentrail_retention_passes_total", outcome="ok") == 1
    assert "retention pass removed 20 rows" in retained.log()

    with retained.admin() as admin:
        again = run_pass(admin)  # nothing left to remove, and nothing removed twice
    assert again["rows_removed"] == 0


def test_a_changed_retention_applies_to_rows_already_stored(
    retained: CollectorProcess, keys: dict[str, str]
) -> None:
    with retained.admin() as admin:
        set_days(admin, "ret-year", 50)
        run_pass(admin)
        assert kept_ages(retained, keys["ret-year"], "ret-year") == [40, 1]

        set_days(admin, "ret-forever", 60)  # from forever to 60 days
        run_pass(admin)
        assert kept_ages(retained, keys["ret-forever"], "ret-forever") == [40, 1]

        reset = admin.delete("/api/admin/projects/ret-forever/retention")
        assert reset.status_code == 200 and reset.json()["source"] == "default"
        set_days(admin, "ret-year", 30)
        result = run_pass(admin)
        overview = admin.get("/api/admin/retention").json()

    assert kept_ages(retained, keys["ret-forever"], "ret-forever") == [1]
    assert kept_ages(retained, keys["ret-year"], "ret-year") == [1]
    assert overview["default_days"] == 30
    assert [(item["project_id"], item["days"]) for item in overview["projects"]] == [("ret-year", 30)]
    assert overview["last_pass"]["rows_removed"] == result["rows_removed"]


def test_whole_months_are_dropped_once_every_project_has_expired_them(
    retained: CollectorProcess, keys: dict[str, str]
) -> None:
    now_ns = time.time_ns()
    ages = (200, 150)  # older than every project's retention now (30 days each)
    with retained.client(keys["ret-default"]) as client:
        committed(client, traces_request(*(llm_span(trace_id("ret-default", age), f"{age:016x}",
                                                    start_ns=now_ns - age * DAY_NS) for age in ages)))  # fmt: skip
    with retained.admin() as admin:
        result = run_pass(admin)
    spans = next(table for table in result["tables"] if table["table"] == "spans")
    assert spans["partitions_dropped"] >= 1
    assert spans["rows_removed"] == len(ages)
    assert spans["deleted_by_project"] == {}  # all of it went with the partitions
    with retained.client(keys["ret-default"]) as client:
        for age in ages:
            assert client.get(f"/api/traces/{trace_id('ret-default', age)}").status_code == 404


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"days": -1}, "greater than or equal to 0"),
        ({"days": 100_000}, "less than or equal to 36500"),
        ({"days": 1.5}, "valid integer"),
        ({"days": "30"}, "valid integer"),
        ({}, "Field required"),
    ],
)
def test_bad_days_are_refused_with_a_clear_message(
    retained: CollectorProcess, keys: dict[str, str], body: dict, expected: str
) -> None:
    with retained.admin() as admin:
        response = admin.put("/api/admin/projects/ret-default/retention", json=body)
        assert response.status_code == 422
        assert expected in response.text
        assert admin.get("/api/admin/projects/ret-default/retention").json()["source"] == "default"


def test_unknown_or_invalid_projects_and_callers_without_the_admin_token_are_refused(
    retained: CollectorProcess, keys: dict[str, str]
) -> None:
    with retained.admin() as admin:
        unknown = admin.put("/api/admin/projects/no-such-project/retention", json={"days": 7})
        assert unknown.status_code == 404
        assert "unknown project 'no-such-project'" in unknown.json()["detail"]
        assert admin.get("/api/admin/projects/no-such-project/retention").status_code == 404
        assert admin.delete("/api/admin/projects/no-such-project/retention").status_code == 404
        invalid = admin.put("/api/admin/projects/bad%20id!/retention", json={"days": 7})
        assert invalid.status_code == 400
        assert "invalid project id" in invalid.json()["detail"]
    with retained.client(keys["ret-default"]) as project_client:  # a project key is not the admin token
        refused = project_client.put("/api/admin/projects/ret-default/retention", json={"days": 0})
        assert refused.status_code == 403
        assert project_client.post("/api/admin/retention/run").status_code == 403
    assert httpx.post(retained.url + "/api/admin/retention/run", timeout=10).status_code == 401
