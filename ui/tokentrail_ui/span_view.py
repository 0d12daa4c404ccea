"""The detail of one span on the Traces page: chat, tool calls, tokens and cost, parameters, GPU, raw."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from tokentrail import semconv as sc
from tokentrail_ui.components import metric_row
from tokentrail_ui.shaping import chat
from tokentrail_ui.shaping import formatting as fmt

ROLE_AVATARS = {"system": ":material/settings:", "tool": ":material/build:"}


def render(span: pd.Series) -> None:
    st.markdown(f"#### {span[sc.NAME]}")
    status = span[sc.STATUS_CODE]
    model = span[sc.RESPONSE_MODEL] or span[sc.REQUEST_MODEL]
    facts = [f"kind **{span[sc.KIND]}**", f"status **{status}**", f"{fmt.ms(span[sc.DURATION_MS])}"]
    if model:
        facts.append(f"model **{model}**" + (f" ({span[sc.PROVIDER]})" if span[sc.PROVIDER] else ""))
    if span[sc.SERVICE]:
        facts.append(f"service {span[sc.SERVICE]}")
    st.caption(" · ".join(facts) + f" · span `{span[sc.SPAN_ID]}`")
    if status == sc.StatusCode.ERROR.value:
        st.error(f"**{span[sc.ERROR_TYPE_COLUMN] or 'error'}**: {span[sc.STATUS_MESSAGE] or 'no message'}")

    inputs = chat.conversation(str(span[sc.INPUT_TEXT] or ""), "user")
    outputs = chat.conversation(str(span[sc.OUTPUT_TEXT] or ""), "assistant")
    calls = chat.tool_calls([*inputs, *outputs])
    tabs = st.tabs(
        ["Chat", f"Tool calls ({len(calls)})", "Tokens and cost", "Parameters", "GPU", "Raw attributes"]
    )
    with tabs[0]:
        _conversation(inputs, outputs)
    with tabs[1]:
        _tool_calls(calls)
    with tabs[2]:
        _usage(span)
    with tabs[3]:
        _parameters(span)
    with tabs[4]:
        _gpu(span)
    with tabs[5]:
        st.json({"attributes": span[sc.ATTRIBUTES], "resource": span[sc.RESOURCE_ATTRIBUTES]}, expanded=1)
        if len(span[sc.EVENTS]):
            st.json({"events": list(span[sc.EVENTS])}, expanded=False)


def _conversation(inputs: list[chat.ChatMessage], outputs: list[chat.ChatMessage]) -> None:
    if not inputs and not outputs:
        st.caption(
            "No prompt or completion recorded for this span (content capture may be off: "
            "`capture_content=False` or `TOKENTRAIL_CAPTURE_CONTENT=false`)."
        )
        return
    for message in [*inputs, *outputs]:
        with st.chat_message(message.role, avatar=ROLE_AVATARS.get(message.role)):
            for part in message.parts:
                _part(part)
            if message.finish_reason:
                st.caption(f"finish reason: {message.finish_reason}")


def _part(part: chat.ChatPart) -> None:
    if part.kind == chat.TEXT:
        st.text(part.text) if len(part.text) > 4000 else st.markdown(part.text)
    elif part.kind == chat.TOOL_CALL:
        st.markdown(f":material/build: calls **{part.name or 'a tool'}**")
        st.code(_pretty(part.text), language="json")
    elif part.kind == chat.TOOL_CALL_RESPONSE:
        st.markdown(":material/output: tool result")
        st.code(_pretty(part.text), language="json")
    else:
        st.code(part.text, language="json")


def _tool_calls(calls: list[chat.ToolCall]) -> None:
    if not calls:
        st.caption("No tool calls in this span.")
        return
    for call in calls:
        st.markdown(f"**{call.name or 'tool'}**" + (f" `{call.call_id}`" if call.call_id else ""))
        left, right = st.columns(2)
        left.code(_pretty(call.arguments), language="json")
        right.code(_pretty(call.response) if call.response is not None else "(no result in this span)")


def _usage(span: pd.Series) -> None:
    metric_row(
        [
            ("Input tokens", fmt.count(span[sc.INPUT_TOKENS])),
            ("Output tokens", fmt.count(span[sc.OUTPUT_TOKENS])),
            ("Cached input", fmt.count(span[sc.CACHED_INPUT_TOKENS])),
            ("Reasoning", fmt.count(span[sc.REASONING_TOKENS])),
        ]
    )
    metric_row(
        [
            ("Cost", fmt.usd(span[sc.COST_USD])),
            ("Cost source", str(span[sc.COST_SOURCE] or "unknown")),
            ("Time to first token", fmt.ms(span[sc.TIME_TO_FIRST_TOKEN_MS])),
            ("Streaming", "yes" if span[sc.IS_STREAMING] else "no"),
        ]
    )
    if span[sc.TOKENS_ESTIMATED]:
        st.caption("Token counts are estimated: the provider did not report usage.")


def _parameters(span: pd.Series) -> None:
    params = dict(span[sc.REQUEST_PARAMS] or {})
    details = {
        "operation": span[sc.OPERATION],
        "provider": span[sc.PROVIDER],
        "request model": span[sc.REQUEST_MODEL],
        "response model": span[sc.RESPONSE_MODEL],
        "finish reasons": ", ".join(span[sc.FINISH_REASONS]) if len(span[sc.FINISH_REASONS]) else "",
        "session": span[sc.SESSION],
        "user": span[sc.USER],
        "tags": ", ".join(span[sc.TAGS]) if len(span[sc.TAGS]) else "",
    }
    rows = [(name, str(value)) for name, value in {**details, **params}.items() if value not in ("", None)]
    if not rows:
        st.caption("No request parameters recorded.")
        return
    st.dataframe(pd.DataFrame(rows, columns=["parameter", "value"]), hide_index=True)


def _gpu(span: pd.Series) -> None:
    if all(
        pd.isna(span[column]) for column in (sc.GPU_UTIL_AVG, sc.GPU_POWER_AVG_WATTS, sc.GPU_ENERGY_JOULES)
    ):
        st.caption(
            "No GPU figures for this span (the SDK adds them for local models with `tokentrail[gpu]`)."
        )
        return
    metric_row(
        [
            ("GPU util avg", _pct(span[sc.GPU_UTIL_AVG])),
            ("GPU util max", _pct(span[sc.GPU_UTIL_MAX])),
            ("Memory peak", fmt.size_bytes(span[sc.GPU_MEMORY_PEAK_BYTES])),
            (
                "Power avg",
                "–" if pd.isna(span[sc.GPU_POWER_AVG_WATTS]) else f"{span[sc.GPU_POWER_AVG_WATTS]:.0f} W",
            ),
            ("Energy", fmt.joules(span[sc.GPU_ENERGY_JOULES])),
        ]
    )


def _pct(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.0f}%"


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return text
