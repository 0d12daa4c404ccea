"""`tokentrail datasets list|create|versions|items|edit|export|import`: eval datasets through the
collector's API.

The CLI talks HTTP to a running collector (`--url`, default `TOKENTRAIL_ENDPOINT` or
http://127.0.0.1:4318) with a project's API key (`--api-key`, default `TOKENTRAIL_API_KEY`),
so it works the same with chDB (where the collector owns the store) and with a server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:4318"
KINDS = ("llm", "embedding", "chain", "agent", "tool", "retrieval", "other")
FORMATS = ("jsonl", "openai", "csv", "parquet")


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `datasets` command and its subcommands, added to the `tokentrail` parser."""
    datasets = commands.add_parser(
        "datasets", help="eval datasets mined from traces (through the collector API)"
    )
    actions = datasets.add_subparsers(title="datasets commands", required=True)

    listing = actions.add_parser("list", help="list the project's datasets")
    listing.set_defaults(run=run_list)

    create = actions.add_parser("create", help="mine a dataset from spans matching a filter (or --empty)")
    create.add_argument("name")
    create.add_argument("--description", default="")
    create.add_argument("--empty", action="store_true", help="create an empty dataset (to import into)")
    create.add_argument("--preview", action="store_true", help="only show what the dataset would hold")
    add_filter_flags(create)
    create.set_defaults(run=run_create)

    export = actions.add_parser("export", help="write a dataset's items to a file (or stdout)")
    export.add_argument("dataset_id")
    export.add_argument("--format", choices=FORMATS, default="jsonl")
    export.add_argument("--version", type=int, help="a version number (default: the latest)")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(run=run_export)

    imported = actions.add_parser("import", help="add a file's items to a dataset (a new version)")
    imported.add_argument("dataset_id")
    imported.add_argument("file", type=Path)
    imported.add_argument("--format", choices=FORMATS, help="default: from the file's extension")
    imported.set_defaults(run=run_import)

    versions = actions.add_parser("versions", help="list a dataset's versions (every one stays readable)")
    versions.add_argument("dataset_id")
    versions.set_defaults(run=run_versions)

    listed_items = actions.add_parser("items", help="show a page of a dataset version's items")
    listed_items.add_argument("dataset_id")
    listed_items.add_argument("--version", type=int, help="a version number (default: the latest)")
    listed_items.add_argument("--limit", type=int, default=20)
    listed_items.add_argument("--offset", type=int, default=0)
    listed_items.set_defaults(run=run_items)

    edit = actions.add_parser("edit", help="set an item's expected output (makes a new version)")
    edit.add_argument("dataset_id")
    edit.add_argument("item_id")
    expected = edit.add_mutually_exclusive_group(required=True)
    expected.add_argument("--expected-output", help="the new expected output")
    expected.add_argument("--expected-output-file", type=Path, help="read the expected output from a file")
    edit.set_defaults(run=run_edit)

    for sub in (listing, create, versions, listed_items, edit, export, imported):
        sub.add_argument(
            "--url", default=None, help=f"collector URL (default TOKENTRAIL_ENDPOINT or {DEFAULT_URL})"
        )
        sub.add_argument("--api-key", default=None, help="project API key (default TOKENTRAIL_API_KEY)")
        sub.add_argument("--json", action="store_true", help="print the API's JSON answer")


def add_filter_flags(parser: argparse.ArgumentParser) -> None:
    mining = parser.add_argument_group("span filter")
    mining.add_argument("--start", help="span start, inclusive (ISO 8601)")
    mining.add_argument("--end", help="span start, exclusive (ISO 8601)")
    mining.add_argument("--kind", action="append", choices=(*KINDS, "any"), help="span kind (default llm)")
    mining.add_argument("--model", action="append", default=[], help="request or response model (repeatable)")
    mining.add_argument("--service", action="append", default=[], help="service name (repeatable)")
    mining.add_argument("--status", choices=("ok", "error"))
    mining.add_argument("--score-name", help="spans (or their traces) with a score of this name")
    mining.add_argument("--score-value", help="... whose category is this (or true/false)")
    mining.add_argument("--score-min", type=float, help="... whose value is at least this")
    mining.add_argument("--score-max", type=float, help="... whose value is at most this")
    mining.add_argument("--latency-percentile", type=float, help="spans at or above this latency percentile")
    mining.add_argument("--latency-min-ms", type=float)
    mining.add_argument("--cost-min", type=float, help="spans costing at least this many USD")
    mining.add_argument("--text", help="text in the input or output (case-insensitive)")
    mining.add_argument("--tag", action="append", default=[], help="spans carrying this tag (repeatable)")
    mining.add_argument("--trace-id", action="append", default=[], help="only this trace (repeatable)")
    mining.add_argument("--span-id", action="append", default=[], help="only this span (repeatable)")
    mining.add_argument("--limit", type=int, help="most spans read (default 10000)")
    shaping = parser.add_argument_group("duplicates and sampling")
    shaping.add_argument("--no-dedupe", action="store_true", help="keep near duplicates")
    shaping.add_argument("--dedupe-threshold", type=float, help="Jaccard similarity (default 0.8)")
    shaping.add_argument("--sample", type=int, help="keep N items")
    shaping.add_argument("--seed", type=int, default=0, help="sampling seed")
    shaping.add_argument("--stratify-by", choices=("model", "provider", "service", "status", "kind"))


def mining_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `mining` object of POST /api/datasets from the command's flags."""
    kinds = [] if args.kind and "any" in args.kind else (args.kind or ["llm"])
    span_filter: dict[str, Any] = {
        "kinds": kinds,
        "models": args.model,
        "services": args.service,
        "tags": args.tag,
        "trace_ids": args.trace_id,
        "span_ids": args.span_id,
    }
    scalars = {
        "start": args.start,
        "end": args.end,
        "status": args.status,
        "latency_percentile": args.latency_percentile,
        "latency_min_ms": args.latency_min_ms,
        "cost_min_usd": args.cost_min,
        "text": args.text,
        "limit": args.limit,
    }
    span_filter.update((key, value) for key, value in scalars.items() if value is not None)
    if args.score_name:
        span_filter["score"] = {
            "name": args.score_name,
            "value": args.score_value,
            "min": args.score_min,
            "max": args.score_max,
        }
    dedupe: dict[str, Any] = {"enabled": not args.no_dedupe}
    if args.dedupe_threshold is not None:
        dedupe["threshold"] = args.dedupe_threshold
    options: dict[str, Any] = {"filter": span_filter, "dedupe": dedupe}
    if args.sample is not None:
        options["sample"] = {"size": args.sample, "seed": args.seed, "stratify_by": args.stratify_by}
    return options


class CliError(Exception):
    """A failure to report in one line, without a traceback."""


def client(args: argparse.Namespace) -> httpx.Client:
    url = args.url or os.environ.get("TOKENTRAIL_ENDPOINT") or DEFAULT_URL
    key = args.api_key or os.environ.get("TOKENTRAIL_API_KEY")
    if not key:
        raise CliError("no API key: pass --api-key or set TOKENTRAIL_API_KEY (see 'tokentrail keys create')")
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300)


def checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise CliError(f"collector answered {response.status_code}: {detail}")
    return response


def run(args: argparse.Namespace, action: Any) -> int:
    try:
        with client(args) as http:
            return int(action(http, args) or 0)
    except CliError as error:
        print(f"tokentrail: {error}", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        print(f"tokentrail: cannot reach the collector: {error}", file=sys.stderr)
        return 1


def show(args: argparse.Namespace, answer: Any, describe: Callable[[Any], None]) -> int:
    """Print the API's answer as JSON (`--json`) or in the words of `describe`."""
    if args.json:
        print(json.dumps(answer))
    else:
        describe(answer)
    return 0


def run_list(args: argparse.Namespace) -> int:
    return run(args, _list)


def _list(http: httpx.Client, args: argparse.Namespace) -> int:
    return show(args, checked(http.get("/api/datasets", params={"limit": 1000})).json(), _print_datasets)


def _print_datasets(answer: dict[str, Any]) -> None:
    if not answer["datasets"]:
        print("no datasets")
        return
    print(f"{'dataset id':<34} {'name':<30} {'items':>7} {'version':>7}  created")
    for dataset in answer["datasets"]:
        print(
            f"{dataset['dataset_id']:<34} {dataset['name'][:30]:<30} {dataset['item_count']:>7} "
            f"{dataset['latest_version']:>7}  {dataset['created_at'][:19]}"
        )


def run_create(args: argparse.Namespace) -> int:
    return run(args, _create)


def _create(http: httpx.Client, args: argparse.Namespace) -> int:
    if args.preview:
        answer = checked(
            http.post("/api/datasets/preview", json={**mining_options(args), "preview_items": 5})
        ).json()
        return show(args, answer, lambda previewed: _print_report(previewed["report"]))
    body: dict[str, Any] = {"name": args.name, "description": args.description}
    if not args.empty:
        body["mining"] = mining_options(args)
    return show(args, checked(http.post("/api/datasets", json=body)).json(), _print_created)


def _print_created(dataset: dict[str, Any]) -> None:
    print(f"created dataset {dataset['dataset_id']} ({dataset['name']!r}) with {dataset['item_count']} items")
    mined = dataset["metadata"].get("mining")
    if mined:
        _print_report(mined)


def _print_report(report: dict[str, Any]) -> None:
    print(
        f"spans matched: {report['matched']} (read {report['considered']}); exact duplicates removed: "
        f"{report['exact_duplicates']}; near duplicates removed: {report['near_duplicates']}; "
        f"items: {report['items']}"
    )
    if report.get("dedupe"):
        method = report["dedupe"]
        print(
            f"near duplicates: {method['method']}, Jaccard >= {method['threshold']} of {method['shingles']}"
        )


def run_versions(args: argparse.Namespace) -> int:
    return run(args, _versions)


def _versions(http: httpx.Client, args: argparse.Namespace) -> int:
    return show(args, checked(http.get(f"/api/datasets/{args.dataset_id}/versions")).json(), _print_versions)


def _print_versions(answer: dict[str, Any]) -> None:
    print(f"{'version':>7} {'items':>7}  {'created':<19}  note")
    for version in answer["versions"]:
        print(
            f"{version['version']:>7} {version['item_count']:>7}  {version['created_at'][:19]:<19}  "
            f"{version['note']}"
        )


def run_items(args: argparse.Namespace) -> int:
    return run(args, _items)


def _items(http: httpx.Client, args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"limit": args.limit, "offset": args.offset}
    if args.version is not None:
        params["version"] = args.version
    return show(
        args, checked(http.get(f"/api/datasets/{args.dataset_id}/items", params=params)).json(), _print_items
    )


def _print_items(answer: dict[str, Any]) -> None:
    shown = len(answer["items"])
    print(
        f"version {answer['version']}: items {answer['offset'] + 1 if shown else 0}-"
        f"{answer['offset'] + shown} of {answer['total']}"
    )
    for item in answer["items"]:
        source = f"{item['source_trace_id']}/{item['source_span_id']}" if item["source_trace_id"] else "-"
        print(f"{item['item_id']} (revision {item['revision']}, source {source})")
        print(f"    input:    {_one_line(item['input'])}")
        print(f"    expected: {_one_line(item['expected_output'])}")


def _one_line(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def run_edit(args: argparse.Namespace) -> int:
    return run(args, _edit)


def _edit(http: httpx.Client, args: argparse.Namespace) -> int:
    expected = args.expected_output
    if args.expected_output_file is not None:
        try:
            expected = args.expected_output_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"cannot read {args.expected_output_file}: {error}") from None
    answer = checked(
        http.patch(
            f"/api/datasets/{args.dataset_id}/items/{args.item_id}", json={"expected_output": expected}
        )
    ).json()
    return show(
        args,
        answer,
        lambda edited: print(
            f"item {args.item_id}: expected output set (revision {edited['item']['revision']}); "
            f"{args.dataset_id} is now at version {edited['version']}"
        ),
    )


def run_export(args: argparse.Namespace) -> int:
    return run(args, _export)


def _export(http: httpx.Client, args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"format": args.format}
    if args.version is not None:
        params["version"] = args.version
    response = checked(http.get(f"/api/datasets/{args.dataset_id}/export", params=params))
    if args.output is None:
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
    else:
        args.output.write_bytes(response.content)
        version = response.headers.get("x-dataset-version", "?")
        print(
            f"wrote version {version} of {args.dataset_id} to {args.output} ({len(response.content)} bytes)"
        )
    return 0


def run_import(args: argparse.Namespace) -> int:
    return run(args, _import)


def _import(http: httpx.Client, args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {args.file}: {error}") from None
    params = {"format": args.format} if args.format else {}
    files = {"file": (args.file.name, data, "application/octet-stream")}
    answer = checked(http.post(f"/api/datasets/{args.dataset_id}/import", params=params, files=files)).json()
    return show(
        args,
        answer,
        lambda imported: print(
            f"imported {imported['imported']} items into {args.dataset_id}: version {imported['version']}"
        ),
    )
