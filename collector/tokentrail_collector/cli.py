"""The `tokentrail` command: `collector`, `demo`, `ui`, `keys create|list|revoke`, `datasets ...`,
`prices list|set|delete`, `retention show|set|reset|run`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from tokentrail_collector import datasets_cli, prices_cli, retention_cli
from tokentrail_collector.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokentrail", description="Self-hosted telemetry for LLM applications."
    )
    commands = parser.add_subparsers(title="commands")

    collector = commands.add_parser("collector", help="run the OTLP collector and query API (port 4318)")
    add_settings_flags(collector)
    collector.set_defaults(run=run_collector)

    demo = commands.add_parser(
        "demo", help="collector + an instrumented example app, with nothing to configure"
    )
    add_settings_flags(demo)
    demo.add_argument("--rounds", type=int, default=3, help="rounds of example questions to send")
    demo.add_argument(
        "--no-wait", action="store_true", help="exit after the example instead of serving until Ctrl-C"
    )
    demo.set_defaults(run=run_demo)

    ui = commands.add_parser("ui", help="the analysis UI (Streamlit, http://127.0.0.1:8501)")
    ui.add_argument("--host", help="address to listen on (default 127.0.0.1; beyond loopback it needs "
                    "TOKENTRAIL_UI_PASSWORD)")  # fmt: skip
    ui.add_argument("--port", type=int, help="port (default 8501)")
    ui.add_argument("--collector-url", help="collector to read from (default TOKENTRAIL_ENDPOINT)")
    ui.set_defaults(run=run_ui)

    keys = commands.add_parser("keys", help="manage API keys (a key names one project)")
    key_commands = keys.add_subparsers(title="keys commands", required=True)
    create = key_commands.add_parser("create", help="create a key; the secret is printed once")
    create.add_argument("--project", required=True)
    create.add_argument("--name", default="")
    create.set_defaults(run=lambda args: run_keys(args, "create"))
    listing = key_commands.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--project")
    listing.set_defaults(run=lambda args: run_keys(args, "list"))
    revoke = key_commands.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=lambda args: run_keys(args, "revoke"))
    for sub in (create, listing, revoke):
        add_settings_flags(sub, server=False)
        sub.add_argument(
            "--url", default=None, help="collector URL used when it owns the store (default from --port)"
        )
        sub.add_argument("--json", action="store_true", help="print JSON")
    datasets_cli.add_parser(commands)
    prices_cli.add_parser(commands)
    retention_cli.add_parser(commands)
    return parser


def add_settings_flags(parser: argparse.ArgumentParser, *, server: bool = True) -> None:
    """Flags named like the TOKENTRAIL_* variables; a flag given wins over the environment."""
    parser.add_argument(
        "--clickhouse-url",
        help="chdb://<dir> (default chdb://.tokentrail) or http(s)://user:pass@host:8123/db",
    )
    parser.add_argument("--port", type=int, help="collector port (default 4318)")
    if server:
        parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--log-level", help="uvicorn log level (default info)")


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name in ("clickhouse_url", "port", "host", "log_level")
        if (value := getattr(args, name, None)) is not None
    }
    return Settings(**overrides)


def run_collector(args: argparse.Namespace) -> int:
    import uvicorn

    from tokentrail_collector.app import create_app
    from tokentrail_collector.storage import StoreUnavailable

    settings = settings_from(args)
    log_to_stderr(settings.log_level)
    try:
        app = create_app(settings)
        uvicorn.run(
            app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False
        )
    except StoreUnavailable as exc:
        print(f"tokentrail: cannot open the store: {exc}", file=sys.stderr)
        return 1
    return 0


def log_to_stderr(level: str) -> None:
    """The collector's own log lines (`tokentrail.*` loggers: retention passes, migrations) on
    stderr beside uvicorn's, at the same level."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger = logging.getLogger("tokentrail")
    logger.addHandler(handler)
    # uvicorn's "trace" is finer than any level of logging's: debug.
    logger.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.DEBUG))


def run_demo(args: argparse.Namespace) -> int:
    from tokentrail_collector.demo import run

    return run(settings_from(args), rounds=args.rounds, wait=not args.no_wait)


def run_ui(args: argparse.Namespace) -> int:
    # The UI package launches itself (python -m tokentrail_ui); the collector never imports it.
    flags = [
        (f"--{name.replace('_', '-')}", getattr(args, name)) for name in ("host", "port", "collector_url")
    ]
    passed = [part for flag, value in flags if value is not None for part in (flag, str(value))]
    os.execv(sys.executable, [sys.executable, "-m", "tokentrail_ui", *passed])
    return 0  # pragma: no cover - execv does not return


def run_keys(args: argparse.Namespace, action: str) -> int:
    from tokentrail_collector.keys_cli import KeyAdmin

    settings = settings_from(args)
    try:
        admin = KeyAdmin.connect(settings, url=args.url)
    except RuntimeError as exc:
        print(f"tokentrail: {exc}", file=sys.stderr)
        return 1
    with admin:
        try:
            return key_action(admin, args, action)
        except RuntimeError as exc:  # the collector refused or failed: its answer, not a traceback
            print(f"tokentrail: {exc}", file=sys.stderr)
            return 1


def key_action(admin: Any, args: argparse.Namespace, action: str) -> int:
    if action == "create":
        created = admin.create(args.project, args.name)
        if args.json:
            print(json.dumps(created, default=str))
        else:
            print(
                f"created key {created['key_id']} for project {created['project_id']!r}:\n\n  {created['key']}\n"
            )
            print("Shown once: only its hash is stored. Use it as TOKENTRAIL_API_KEY.")
    elif action == "list":
        keys = admin.list(args.project)
        if args.json:
            print(json.dumps(keys, default=str))
        else:
            print_key_table(keys)
    elif not admin.revoke(args.key_id):
        print(f"tokentrail: no active key with id {args.key_id!r}", file=sys.stderr)
        return 1
    else:
        print(f"revoked {args.key_id}")
    return 0


def print_key_table(keys: list[dict[str, Any]]) -> None:
    if not keys:
        print("no keys")
        return
    print(f"{'key id':<24} {'prefix':<12} {'project':<20} {'name':<20} {'created':<20} revoked")
    for key in keys:
        revoked = str(key["revoked_at"])[:19] if key.get("revoked_at") else "-"
        print(
            f"{key['key_id']:<24} {key['key_prefix']:<12} {key['project_id']:<20} {key['name']:<20} "
            f"{str(key['created_at'])[:19]:<20} {revoked}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
