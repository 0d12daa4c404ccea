"""`tokentrail retention show|set|reset|run`: how long each project's telemetry is kept.

Like `tokentrail keys`, it works on the store directly, or, while a collector owns a chDB
directory (or with `--url`), through that collector's admin API with the admin token it keeps
beside the data. Answers are the admin API's JSON shapes either way.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from tokentrail_collector.keys_cli import KeyAdmin
from tokentrail_collector.models_retention import ProjectRetentionOut, RetentionPassOut
from tokentrail_collector.settings import Settings
from tokentrail_collector.storage import StoreError, validate_project_id
from tokentrail_collector.storage.retention import (
    RetentionSettings,
    UnknownProject,
    enforce,
)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `retention` command and its subcommands, added to the `tokentrail` parser."""
    retention = commands.add_parser(
        "retention", help="days of telemetry kept per project (default TOKENTRAIL_RETENTION_DAYS)"
    )
    actions = retention.add_subparsers(title="retention commands", required=True)
    show = actions.add_parser("show", help="the default and the projects with their own retention")
    show.add_argument("--project", help="only this project (its own setting or the default)")
    show.set_defaults(run=lambda args: run(args, _show))
    setting = actions.add_parser("set", help="keep a project's telemetry this many days (0: forever)")
    setting.add_argument("project")
    setting.add_argument("days", type=int)
    setting.set_defaults(run=lambda args: run(args, _set))
    reset = actions.add_parser("reset", help="back to the collector's default")
    reset.add_argument("project")
    reset.set_defaults(run=lambda args: run(args, _reset))
    now = actions.add_parser("run", help="remove expired telemetry now (the collector also does it hourly)")
    now.set_defaults(run=lambda args: run(args, _run))
    for sub in (show, setting, reset, now):
        sub.add_argument("--clickhouse-url", help="chdb://<dir> (default chdb://.tokentrail) or a server URL")
        sub.add_argument("--port", type=int, help="collector port (default 4318)")
        sub.add_argument("--url", help="collector URL used when it owns the store (default from --port)")
        sub.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, action: Any) -> int:
    overrides = {name: getattr(args, name) for name in ("clickhouse_url", "port") if getattr(args, name)}
    settings = Settings(**overrides)
    try:
        admin = KeyAdmin.connect(settings, url=args.url)
    except RuntimeError as exc:
        print(f"tokentrail: {exc}", file=sys.stderr)
        return 1
    with admin:
        try:
            answer = action(admin, settings, args)
        except (RuntimeError, StoreError, UnknownProject, ValueError) as exc:
            print(f"tokentrail: {exc}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(answer, default=str))
    else:
        print(_describe(answer))
    return 0


def _project_path(project_id: str) -> str:
    return f"/api/admin/projects/{quote(validate_project_id(project_id), safe='')}/retention"


def _settings(admin: KeyAdmin, settings: Settings) -> RetentionSettings:
    assert admin.store is not None
    return RetentionSettings(admin.store, default_days=settings.retention_days)


def _show(admin: KeyAdmin, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    if args.project:
        if admin.store is None:
            return admin.checked(admin.http_client.get(_project_path(args.project)))
        return ProjectRetentionOut.of(_settings(admin, settings).get(args.project)).model_dump(mode="json")
    if admin.store is None:
        return admin.checked(admin.http_client.get("/api/admin/retention"))
    store_settings = _settings(admin, settings)
    return {
        "default_days": store_settings.default_days,
        "projects": [
            ProjectRetentionOut.of(item).model_dump(mode="json") for item in store_settings.overrides()
        ],
    }


def _set(admin: KeyAdmin, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    if admin.store is None:
        path = _project_path(args.project)
        return admin.checked(admin.http_client.put(path, json={"days": args.days}))
    return ProjectRetentionOut.of(_settings(admin, settings).set(args.project, args.days)).model_dump(
        mode="json"
    )


def _reset(admin: KeyAdmin, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    if admin.store is None:
        return admin.checked(admin.http_client.delete(_project_path(args.project)))
    return ProjectRetentionOut.of(_settings(admin, settings).reset(args.project)).model_dump(mode="json")


def _run(admin: KeyAdmin, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    if admin.store is None:
        return admin.checked(admin.http_client.post("/api/admin/retention/run"))
    cutoffs = _settings(admin, settings).cutoffs(datetime.now(timezone.utc))
    return RetentionPassOut.of(enforce(admin.store, cutoffs)).model_dump(mode="json")


def _describe(answer: dict[str, Any]) -> str:
    if "tables" in answer:
        lines = [f"removed {answer['rows_removed']} rows in {answer['duration_s']:.2f} s"]
        lines += [
            f"  {table['table']:<14} {table['rows_removed']:>10} rows"
            f" ({table['partitions_dropped']} month partitions dropped)"
            for table in answer["tables"]
            if table["rows_removed"]
        ]
        return "\n".join(lines)
    if "project_id" in answer:
        return f"{answer['project_id']}: {_days(answer['days'])} ({answer['source']})"
    lines = [f"default: {_days(answer['default_days'])}"]
    lines += [f"{item['project_id']}: {_days(item['days'])}" for item in answer["projects"]]
    return "\n".join(lines)


def _days(days: int) -> str:
    return "kept forever" if days == 0 else f"{days} days"
