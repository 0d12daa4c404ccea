"""Dataset items to and from files: eval JSONL, OpenAI chat fine-tuning JSONL, CSV and Parquet.

- `jsonl`: one `{"input", "expected_output", "metadata"}` object a line. The item's original
  output and its source trace and span ids travel inside metadata (`output`, `source_trace_id`,
  `source_span_id`), so export then import gives back the same items.
- `openai`: one `{"messages": [...]}` object a line, as OpenAI's chat fine-tuning expects. The
  messages are the input's when it is a JSON chat transcript (system, user, assistant and tool
  messages, tool calls included), else one user message with the input's text; the last
  message is the assistant's, with the expected output. The format has no room for metadata or
  provenance: importing it gives items whose input is the transcript before the last assistant
  message and whose output and expected output are that message's text.
- `csv` and `parquet`: the columns `input`, `output`, `expected_output`, `metadata` (JSON
  text), `source_trace_id`, `source_span_id`, plus `item_id` and `revision` on export (ignored
  on import). On import only `input` is required; other unknown columns go into metadata.

Imports are all-or-nothing: `parse_items` checks every line or row and raises `ImportFormatError`
naming the first wrong one before anything can be stored. pyarrow is imported only for Parquet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal

from tokentrail import semconv as sc
from tokentrail_collector.analysis.datasets import (
    Item,
    NewItem,
    chat_transcript,
    decode_json,
    message_text,
    plain_text,
)

Format = Literal["jsonl", "openai", "csv", "parquet"]
FORMATS: Final[tuple[str, ...]] = ("jsonl", "openai", "csv", "parquet")
MEDIA_TYPES: Final[dict[str, str]] = {
    "jsonl": "application/jsonl",
    "openai": "application/jsonl",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
EXTENSIONS: Final[dict[str, str]] = {"jsonl": "jsonl", "openai": "jsonl", "csv": "csv", "parquet": "parquet"}

INPUT: Final = "input"
OUTPUT: Final = "output"
EXPECTED_OUTPUT: Final = "expected_output"
METADATA: Final = "metadata"
SOURCE_TRACE_ID: Final = "source_trace_id"
SOURCE_SPAN_ID: Final = "source_span_id"
ITEM_ID: Final = "item_id"
REVISION: Final = "revision"
MESSAGES: Final = "messages"
TABLE_COLUMNS: Final = (
    INPUT,
    OUTPUT,
    EXPECTED_OUTPUT,
    METADATA,
    SOURCE_TRACE_ID,
    SOURCE_SPAN_ID,
    ITEM_ID,
    REVISION,
)
_IGNORED_ON_IMPORT: Final = frozenset({ITEM_ID, REVISION})
# Keys of metadata that carry an item's own fields in the eval JSONL format.
_CARRIED_IN_METADATA: Final = (OUTPUT, SOURCE_TRACE_ID, SOURCE_SPAN_ID)

ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool"})
_TEXT = sc.MessagePartType.TEXT.value
_TOOL_CALL = sc.MessagePartType.TOOL_CALL.value
_TOOL_RESPONSE = sc.MessagePartType.TOOL_CALL_RESPONSE.value


class ImportFormatError(ValueError):
    """A file that cannot be imported; the message names the line or row that is wrong."""


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- export --------------------------------------------------------------------------------------


def export_items(items: Iterable[Item], fmt: str) -> bytes:
    """The items in format `fmt` (one of FORMATS)."""
    if fmt == "jsonl":
        return _jsonl(_eval_record(item) for item in items)
    if fmt == "openai":
        return _jsonl({MESSAGES: openai_messages(item.input, item.expected)} for item in items)
    if fmt == "csv":
        return _csv(items)
    if fmt == "parquet":
        return _parquet(items)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _jsonl(records: Iterable[Mapping[str, object]]) -> bytes:
    return "".join(_compact(record) + "\n" for record in records).encode()


def _eval_record(item: Item) -> dict[str, object]:
    carried = {
        OUTPUT: item.output,
        SOURCE_TRACE_ID: item.source_trace_id,
        SOURCE_SPAN_ID: item.source_span_id,
    }
    return {INPUT: item.input, EXPECTED_OUTPUT: item.expected, METADATA: {**item.metadata, **carried}}


def _table_rows(items: Iterable[Item]) -> Iterable[tuple[object, ...]]:
    for item in items:
        yield (
            item.input, item.output, item.expected, _compact(dict(item.metadata)),
            item.source_trace_id, item.source_span_id, item.item_id, item.revision,
        )  # fmt: skip


def _csv(items: Iterable[Item]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TABLE_COLUMNS)
    writer.writerows(_table_rows(items))
    return buffer.getvalue().encode()


def _parquet(items: Iterable[Item]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = list(_table_rows(items))
    columns = {name: [row[index] for row in rows] for index, name in enumerate(TABLE_COLUMNS)}
    schema = pa.schema([(name, pa.int64() if name == REVISION else pa.string()) for name in TABLE_COLUMNS])
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns, schema=schema), buffer, compression="zstd")
    return buffer.getvalue()


def openai_messages(input_text: str, expected_output: str) -> list[dict[str, object]]:
    """Chat fine-tuning messages: the input transcript (or one user message), then the answer."""
    transcript = chat_transcript(input_text)
    messages: list[dict[str, object]] = []
    if transcript is None:
        messages.append({"role": "user", "content": plain_text(input_text)})
    else:
        for message in transcript:
            messages.extend(_openai_message(message))
    messages.append({"role": "assistant", "content": plain_text(expected_output)})
    return messages


def _openai_message(message: Mapping[str, object]) -> list[dict[str, object]]:
    """One transcript message in OpenAI's shape; tool responses become one tool message each."""
    role = str(message.get(sc.MESSAGE_ROLE))
    parts = message.get(sc.MESSAGE_PARTS)
    if not isinstance(parts, list):  # chat-completions shape already
        return [
            {
                key: value
                for key, value in message.items()
                if key in ("role", "content", "tool_calls", "tool_call_id", "name")
            }
        ]
    converted: list[dict[str, object]] = []
    text = message_text(message)
    calls = [
        {
            "id": part.get(sc.MESSAGE_PART_ID, ""),
            "type": "function",
            "function": {
                "name": part.get(sc.MESSAGE_PART_NAME, ""),
                "arguments": _arguments(part.get(sc.MESSAGE_PART_ARGUMENTS)),
            },
        }
        for part in parts
        if isinstance(part, dict) and part.get(sc.MESSAGE_PART_TYPE) == _TOOL_CALL
    ]
    responses = [
        part for part in parts if isinstance(part, dict) and part.get(sc.MESSAGE_PART_TYPE) == _TOOL_RESPONSE
    ]
    if responses:
        for part in responses:
            response = part.get(sc.MESSAGE_PART_RESPONSE, "")
            content = response if isinstance(response, str) else _compact(response)
            converted.append(
                {"role": "tool", "tool_call_id": part.get(sc.MESSAGE_PART_ID, ""), "content": content}
            )
        return converted
    built: dict[str, object] = {"role": role, "content": text}
    if calls:
        built["tool_calls"] = calls
    return [built]


def _arguments(value: object) -> str:
    return value if isinstance(value, str) else _compact(value if value is not None else {})


# --- import --------------------------------------------------------------------------------------


def parse_items(data: bytes, fmt: str) -> list[NewItem]:
    """Every item of the file, or ImportFormatError naming the first line or row that is wrong."""
    if fmt == "parquet":
        return _parse_parquet(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFormatError(f"line {line}: not UTF-8 text (byte {error.start})") from None
    if fmt == "jsonl":
        return [_eval_item(record, f"line {number}") for number, record in _json_lines(text)]
    if fmt == "openai":
        return [_openai_item(record, f"line {number}") for number, record in _json_lines(text)]
    if fmt == "csv":
        return _parse_csv(text)
    raise ImportFormatError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _json_lines(text: str) -> Iterable[tuple[int, dict[str, object]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ImportFormatError(f"line {number}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise ImportFormatError(f"line {number}: expected a JSON object")
        yield number, record


def _content(value: object, where: str, name: str, *, required: bool = False) -> str:
    """A text field of an imported item: strings as they are, other JSON values as compact JSON."""
    if value is None:
        if required:
            raise ImportFormatError(f"{where}: '{name}' is missing")
        return ""
    return value if isinstance(value, str) else _compact(value)


def _metadata(value: object, where: str) -> dict[str, object]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        decoded = decode_json(value)
        if not isinstance(decoded, dict):
            raise ImportFormatError(f"{where}: 'metadata' is not a JSON object")
        return decoded
    if not isinstance(value, dict):
        raise ImportFormatError(f"{where}: 'metadata' must be an object")
    return dict(value)


def _source_id(value: object, where: str, name: str, length: int) -> str:
    text = "" if value is None else str(value).strip().lower()
    if text and (len(text) != length or any(char not in "0123456789abcdef" for char in text)):
        raise ImportFormatError(f"{where}: '{name}' must be {length} hex digits")
    return text


def _item(fields: Mapping[str, object], where: str) -> NewItem:
    """An item from the fields of one record (input, output, expected_output, metadata, ids)."""
    metadata = _metadata(fields.get(METADATA), where)
    output = _content(fields.get(OUTPUT), where, OUTPUT)
    expected = fields.get(EXPECTED_OUTPUT)
    return NewItem(
        input=_content(fields.get(INPUT), where, INPUT, required=True),
        output=output,
        expected_output=_content(expected, where, EXPECTED_OUTPUT) if expected is not None else None,
        metadata=metadata,
        source_trace_id=_source_id(fields.get(SOURCE_TRACE_ID), where, SOURCE_TRACE_ID, 32),
        source_span_id=_source_id(fields.get(SOURCE_SPAN_ID), where, SOURCE_SPAN_ID, 16),
    )


def _eval_item(record: Mapping[str, object], where: str) -> NewItem:
    metadata = _metadata(record.get(METADATA), where)
    carried = {key: metadata.pop(key) for key in _CARRIED_IN_METADATA if key in metadata}
    fields = {INPUT: record.get(INPUT), EXPECTED_OUTPUT: record.get(EXPECTED_OUTPUT), METADATA: metadata}
    fields[OUTPUT] = record.get(OUTPUT, carried.get(OUTPUT))
    fields[SOURCE_TRACE_ID] = carried.get(SOURCE_TRACE_ID)
    fields[SOURCE_SPAN_ID] = carried.get(SOURCE_SPAN_ID)
    return _item(fields, where)


def _openai_item(record: Mapping[str, object], where: str) -> NewItem:
    messages = record.get(MESSAGES)
    if not isinstance(messages, list) or not messages:
        raise ImportFormatError(f"{where}: expected a non-empty 'messages' list")
    for position, message in enumerate(messages, start=1):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ImportFormatError(f"{where}: message {position} needs a role among {sorted(ROLES)}")
    last = messages[-1]
    if last.get("role") != "assistant":
        raise ImportFormatError(f"{where}: the last message must be the assistant's")
    answer = message_text(last)
    prompt = [_transcript_message(message) for message in messages[:-1]]
    return NewItem(input=_compact(prompt), output=answer, expected_output=answer)


def _transcript_message(message: Mapping[str, object]) -> dict[str, object]:
    """An OpenAI chat message in the GenAI `parts` shape that spans' input_text uses."""
    role = str(message["role"])
    if role == "tool":
        response = {sc.MESSAGE_PART_TYPE: _TOOL_RESPONSE, sc.MESSAGE_PART_ID: message.get("tool_call_id", ""),
                    sc.MESSAGE_PART_RESPONSE: message_text(message)}  # fmt: skip
        return {sc.MESSAGE_ROLE: role, sc.MESSAGE_PARTS: [response]}
    parts: list[dict[str, object]] = []
    text = message_text(message)
    if text:
        parts.append({sc.MESSAGE_PART_TYPE: _TEXT, sc.MESSAGE_CONTENT: text})
    for call in message.get("tool_calls") or ():
        function = call.get("function", {}) if isinstance(call, dict) else {}
        arguments = function.get("arguments", "")
        decoded = decode_json(arguments) if isinstance(arguments, str) else arguments
        parts.append({
            sc.MESSAGE_PART_TYPE: _TOOL_CALL,
            sc.MESSAGE_PART_ID: call.get("id", "") if isinstance(call, dict) else "",
            sc.MESSAGE_PART_NAME: function.get("name", ""),
            sc.MESSAGE_PART_ARGUMENTS: decoded if decoded is not None else arguments,
        })  # fmt: skip
    return {sc.MESSAGE_ROLE: role, sc.MESSAGE_PARTS: parts}


def _table_item(row: Mapping[str, object], where: str) -> NewItem:
    known = {key: row.get(key) for key in TABLE_COLUMNS if key in row}
    extra = {
        key: value for key, value in row.items() if key not in TABLE_COLUMNS and key not in _IGNORED_ON_IMPORT
    }
    if extra:
        known[METADATA] = {**_metadata(known.get(METADATA), where), **extra}
    return _item(known, where)


def _check_columns(columns: Sequence[str], where: str) -> None:
    if INPUT not in columns:
        raise ImportFormatError(f"{where}: needs an '{INPUT}' column, found {list(columns)}")
    if len(set(columns)) != len(columns):
        raise ImportFormatError(f"{where}: a column name appears twice")


def _parse_csv(text: str) -> list[NewItem]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        _check_columns(reader.fieldnames or [], "the header row")
        items = []
        for number, row in enumerate(reader, start=1):
            where = f"row {number} (line {reader.line_num})"
            if None in row:
                raise ImportFormatError(f"{where}: more cells than columns")
            items.append(_table_item(row, where))
        return items
    except csv.Error as error:
        raise ImportFormatError(f"line {reader.line_num}: {error}") from None


def _parse_parquet(data: bytes) -> list[NewItem]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as error:
        raise ImportFormatError(f"not a readable Parquet file: {error}") from None
    _check_columns(table.column_names, "the Parquet schema")
    items = []
    for number, row in enumerate(table.to_pylist(), start=1):
        items.append(
            _table_item({key: value for key, value in row.items() if value is not None}, f"row {number}")
        )
    return items
