"""`tokentrail prices list|set|delete`: the project's prices through the collector's API.

Prices are per project, so the CLI speaks to a running collector (`--url`, default
`TOKENTRAIL_ENDPOINT` or http://127.0.0.1:4318) with the project's API key (`--api-key`, default
`TOKENTRAIL_API_KEY`), with chDB and with a server alike. A price set here applies at once to
the spans already stored: costs are derived when spans are read.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import httpx

# The HTTP plumbing (key and URL from flags or environment, one-line errors) is the datasets
# command's; both are thin clients of the same API.
from tokentrail_collector.datasets_cli import DEFAULT_URL, checked, run


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `prices` command and its subcommands, added to the `tokentrail` parser."""
    prices = commands.add_parser(
        "prices",
        help="model prices: the shipped table and the project's custom prices (through the collector API)",
    )
    actions = prices.add_subparsers(title="prices commands", required=True)

    listing = actions.add_parser("list", help="the prices that apply to the project (custom first)")
    listing.add_argument("--model", help="only the prices of this model name, and the one in force")
    listing.add_argument("--at", help="with --model: report the price in force at this time (ISO 8601)")
    listing.add_argument("--custom", action="store_true", help="only the project's custom prices")
    listing.set_defaults(run=lambda args: run(args, _list))

    setting = actions.add_parser(
        "set", help="set the project's price (USD per 1M tokens) for a model pattern, from a date"
    )
    setting.add_argument("pattern", help="model name or pattern (`*` for any characters), case-insensitive")
    setting.add_argument("--input", type=float, required=True, help="USD per 1M input tokens")
    setting.add_argument("--output", type=float, required=True, help="USD per 1M output tokens")
    setting.add_argument(
        "--cached-input", type=float, help="USD per 1M cache-read input tokens (default: input)"
    )
    setting.add_argument(
        "--cache-write-input", type=float, help="USD per 1M cache-write input tokens (default: input)"
    )
    setting.add_argument("--reasoning", type=float, help="USD per 1M reasoning tokens (default: output)")
    setting.add_argument(
        "--from", dest="effective_from", help="in force from this date or time (default: always)"
    )
    setting.add_argument("--note", default="", help="why, or where the price comes from")
    setting.set_defaults(run=lambda args: run(args, _set))

    deleting = actions.add_parser("delete", help="delete the project's custom price(s) of a pattern")
    deleting.add_argument("pattern")
    deleting.add_argument("--from", dest="effective_from", help="only the price from this date or time")
    deleting.set_defaults(run=lambda args: run(args, _delete))

    for sub in (listing, setting, deleting):
        sub.add_argument(
            "--url", default=None, help=f"collector URL (default TOKENTRAIL_ENDPOINT or {DEFAULT_URL})"
        )
        sub.add_argument("--api-key", default=None, help="project API key (default TOKENTRAIL_API_KEY)")
        sub.add_argument("--json", action="store_true", help="print the API's JSON answer")


def _list(http: httpx.Client, args: argparse.Namespace) -> int:
    params = {name: value for name, value in (("model", args.model), ("at", args.at)) if value}
    answer = checked(http.get("/api/prices", params=params)).json()
    rows = [row for row in answer["prices"] if not args.custom or row["cost_source"] == "custom_price"]
    if args.json:
        print(json.dumps({**answer, "prices": rows}))
        return 0
    print(f"price table {answer['table_version']} (as of {answer['table_as_of']}), USD per 1M tokens")
    if args.model:
        in_force = answer.get("in_force")
        print(
            f"{args.model}: " + (_describe(in_force) if in_force else "no price (its spans' cost is unknown)")
        )
    _print_rows(rows)
    return 0


def _set(http: httpx.Client, args: argparse.Namespace) -> int:
    body = {
        "pattern": args.pattern,
        "effective_from": args.effective_from,
        "input": args.input,
        "output": args.output,
        "cached_input": args.cached_input,
        "cache_write_input": args.cache_write_input,
        "reasoning": args.reasoning,
        "note": args.note,
    }
    row = checked(http.put("/api/prices", json=body)).json()
    if args.json:
        print(json.dumps(row))
    else:
        print(f"set {row['model_key']}: {_describe(row)}")
    return 0


def _delete(http: httpx.Client, args: argparse.Namespace) -> int:
    params = {
        "pattern": args.pattern,
        **({"effective_from": args.effective_from} if args.effective_from else {}),
    }
    checked(http.delete("/api/prices", params=params))
    if args.json:
        print(json.dumps({"deleted": args.pattern}))
    else:
        print(f"deleted the custom price(s) of {args.pattern}")
    return 0


def _describe(row: dict[str, Any]) -> str:
    extras = [
        f"{label} {row[key]:g}"
        for key, label in (
            ("cached_input", "cached"),
            ("cache_write_input", "cache write"),
            ("reasoning", "reasoning"),
        )
        if row.get(key) is not None
    ]
    return (
        f"input {row['input']:g}, output {row['output']:g}" + "".join(", " + extra for extra in extras)
        + f" from {str(row['effective_from'])[:10]} ({row['cost_source']})"
    )  # fmt: skip


def _print_rows(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("no prices")
        return
    print(
        f"{'source':<13} {'model':<42} {'from':<11} {'input':>9} {'output':>9} {'cached':>9} {'c.write':>9}"
    )
    for row in rows:
        cached, written = row.get("cached_input"), row.get("cache_write_input")
        print(
            f"{row['cost_source']:<13} {row['model_key']:<42} {str(row['effective_from'])[:10]:<11} "
            f"{row['input']:>9g} {row['output']:>9g} {'-' if cached is None else format(cached, 'g'):>9} "
            f"{'-' if written is None else format(written, 'g'):>9}"
        )
