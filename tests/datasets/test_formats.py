"""Export and import of dataset items (eval JSONL, OpenAI chat JSONL, CSV, Parquet): round trips,
the messages built for fine-tuning, and malformed files refused with the line or row named."""

from __future__ import annotations

import io
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tokentrail_collector.analysis.datasets import Item, NewItem, SampleOptions, plain_text, sample_indices
from tokentrail_collector.analysis.formats import (
    FORMATS,
    ImportFormatError,
    export_items,
    openai_messages,
    parse_items,
)

TRANSCRIPT = json.dumps(
    [
        {"role": "system", "parts": [{"type": "text", "content": "Answer briefly."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18C, sunny"}]},
    ]
)
OUTPUT_MESSAGES = json.dumps(
    [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "18°C and sunny."}],
            "finish_reason": "stop",
        }
    ]
)

ITEMS = [
    Item(
        input='"How do I reset my password?"',
        output='"From the account page."',
        expected_output='"From the account page; a link is emailed."',
        metadata={"model": "gpt-4o", "input_tokens": 12, "cost_usd": None, "tags": ["faq"], "scores": []},
        source_trace_id="0af7651916cd43dd8448eb211c80319c",
        source_span_id="b7ad6b7169203331",
        item_id="a" * 32,
    ),
    Item(
        input=TRANSCRIPT,
        output=OUTPUT_MESSAGES,
        expected_output=OUTPUT_MESSAGES,
        metadata={"model": "gpt-4o-mini", "nested": {"a": [1, 2.5, None]}},
        source_trace_id="1af7651916cd43dd8448eb211c80319c",
        source_span_id="c7ad6b7169203331",
        item_id="b" * 32,
        revision=3,
    ),
    Item(
        input='Comma, "quotes"\nand a second line, ünïcödé 🙂',
        output="",
        expected_output="",
        metadata={},
        item_id="c" * 32,
    ),
]


def as_new(item: NewItem) -> tuple[object, ...]:
    return (
        item.input,
        item.output,
        item.expected,
        dict(item.metadata),
        item.source_trace_id,
        item.source_span_id,
    )


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_round_trip_keeps_items_and_provenance(fmt: str) -> None:
    parsed = parse_items(export_items(ITEMS, fmt), fmt)
    assert [as_new(item) for item in parsed] == [as_new(item) for item in ITEMS]


def test_eval_jsonl_lines_have_the_eval_shape() -> None:
    lines = [json.loads(line) for line in export_items(ITEMS, "jsonl").decode().splitlines()]
    assert all(set(line) == {"input", "expected_output", "metadata"} for line in lines)
    first = lines[0]
    assert first["input"] == ITEMS[0].input
    assert first["expected_output"] == ITEMS[0].expected_output
    assert first["metadata"]["source_trace_id"] == ITEMS[0].source_trace_id
    assert first["metadata"]["output"] == ITEMS[0].output
    assert first["metadata"]["model"] == "gpt-4o"


def test_openai_messages_from_a_transcript_and_from_plain_input() -> None:
    assert openai_messages(TRANSCRIPT, OUTPUT_MESSAGES) == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"},
        {"role": "assistant", "content": "18°C and sunny."},
    ]
    assert openai_messages('"How do I reset my password?"', '"From the account page."') == [
        {"role": "user", "content": "How do I reset my password?"},
        {"role": "assistant", "content": "From the account page."},
    ]
    chat_completions = json.dumps([{"role": "user", "content": "Hi"}])
    assert openai_messages(chat_completions, "Hello!")[0] == {"role": "user", "content": "Hi"}


def test_openai_export_reimports_to_the_same_messages() -> None:
    exported = export_items(ITEMS, "openai")
    lines = [json.loads(line) for line in exported.decode().splitlines()]
    assert all(set(line) == {"messages"} and line["messages"][-1]["role"] == "assistant" for line in lines)
    parsed = parse_items(exported, "openai")
    again = export_items([Item(**vars(item)) for item in parsed], "openai")
    assert again == exported
    assert parsed[0].expected == "From the account page; a link is emailed."


def test_plain_text() -> None:
    assert plain_text('"quoted"') == "quoted"
    assert plain_text('{"question": "only one"}') == "only one"
    assert plain_text('{"a": "x", "b": "y"}') == '{"a": "x", "b": "y"}'
    assert plain_text(TRANSCRIPT, skip_system=True) == "Weather in Paris?\n\n"
    assert plain_text("not json [") == "not json ["


def test_imports_accept_hand_made_files() -> None:
    jsonl = (
        b'{"input": {"question": "q1"}, "expected_output": "a1"}\n\n{"input": "q2", "metadata": {"k": 1}}\n'
    )
    first, second = parse_items(jsonl, "jsonl")
    assert (first.input, first.expected, first.output) == ('{"question":"q1"}', "a1", "")
    assert (second.expected, dict(second.metadata)) == ("", {"k": 1})
    csv_text = b"question_id,input,expected_output\n7,What is 2+2?,4\n"
    (row,) = parse_items(csv_text, "csv")
    assert (row.input, row.expected, dict(row.metadata)) == ("What is 2+2?", "4", {"question_id": "7"})
    buffer = io.BytesIO()
    pq.write_table(pa.table({"input": ["p"], "score": [0.5]}), buffer)
    (parquet_row,) = parse_items(buffer.getvalue(), "parquet")
    assert (parquet_row.input, dict(parquet_row.metadata)) == ("p", {"score": 0.5})


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


MALFORMED = [
    ("jsonl", b'{"input": "a"}\n{"input": "b"}\n{"input": \n', "line 3: not valid JSON"),
    ("jsonl", b'{"input": "a"}\n{"expected_output": "b"}\n', "line 2: 'input' is missing"),
    ("jsonl", b'["input"]\n', "line 1: expected a JSON object"),
    ("jsonl", b'{"input": "a", "metadata": [1]}\n', "line 1: 'metadata' must be an object"),
    (
        "jsonl",
        b'{"input": "a", "metadata": {"source_trace_id": "zz"}}\n',
        "line 1: 'source_trace_id' must be 32 hex",
    ),
    ("jsonl", b'{"input": "a"}\n\xff\xfe\n', "line 2: not UTF-8"),
    (
        "openai",
        b'{"messages": [{"role": "user", "content": "q"}]}\n',
        "line 1: the last message must be the assistant",
    ),
    (
        "openai",
        b'{"messages": [{"role": "wizard", "content": "q"}, {"role": "assistant", "content": "a"}]}\n',
        "line 1: message 1",
    ),
    ("openai", b'{"messages": []}\n', "line 1: expected a non-empty 'messages' list"),
    ("csv", b"question,answer\nq,a\n", "needs an 'input' column"),
    ("csv", b"input,output\nq,a\nq2,a2,extra\n", "row 2 (line 3): more cells than columns"),
    ("csv", b"input,metadata\nq,{}\nq2,not json\n", "row 2 (line 3): 'metadata' is not a JSON object"),
    ("csv", b'input,output\nq,"unterminated\n', "line"),
    ("parquet", b"PAR1 not really parquet", "not a readable Parquet file"),
    ("parquet", parquet_bytes(pa.table({"question": ["q"]})), "needs an 'input' column"),
    ("parquet", parquet_bytes(pa.table({"input": ["q", None]})), "row 2: 'input' is missing"),
]


@pytest.mark.parametrize(("fmt", "data", "message"), MALFORMED)
def test_malformed_files_name_what_is_wrong(fmt: str, data: bytes, message: str) -> None:
    with pytest.raises(ImportFormatError, match=re.escape(message)):
        parse_items(data, fmt)


def test_every_format_is_served() -> None:
    assert FORMATS == ("jsonl", "openai", "csv", "parquet")
    with pytest.raises(ValueError, match="unknown format"):
        export_items(ITEMS, "xml")
    with pytest.raises(ImportFormatError, match="unknown format"):
        parse_items(b"", "xml")


def test_sampling_is_repeatable_and_stratified_proportionally() -> None:
    strata = ["gpt-4o"] * 60 + ["claude"] * 30 + ["mistral"] * 10
    options = SampleOptions(size=10, seed=7, stratify_by="model")
    chosen = sample_indices(strata, options)
    assert chosen == sample_indices(strata, options) == sorted(chosen)
    counts = {value: sum(strata[index] == value for index in chosen) for value in set(strata)}
    assert counts == {"gpt-4o": 6, "claude": 3, "mistral": 1}
    uniform = sample_indices(strata, SampleOptions(size=10, seed=7))
    assert len(uniform) == len(set(uniform)) == 10
    assert sample_indices(strata, SampleOptions(size=500)) == list(range(100))
    # Largest remainders: 7 of (5, 3, 2) gives (3.5, 2.1, 1.4) -> (4, 2, 1).
    small = ["a"] * 5 + ["b"] * 3 + ["c"] * 2
    picked = sample_indices(small, SampleOptions(size=7, stratify_by="model"))
    assert [sum(small[index] == value for index in picked) for value in "abc"] == [4, 2, 1]
    with pytest.raises(ValueError):
        SampleOptions(size=0)
    with pytest.raises(ValueError):
        SampleOptions(size=3, stratify_by="colour")
