"""A span's prompt and completion as a conversation, and the tool calls in it.

The collector stores `input_text`/`output_text` as OpenTelemetry GenAI messages (a JSON list of
`{"role", "parts": [{"type": "text" | "tool_call" | "tool_call_response", ...}]}`) wherever the
source had messages, and as plain text otherwise (an observed function's arguments as JSON, a
prompt string). Both become a list of `ChatMessage`s here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from tokentrail import semconv as sc

TEXT = sc.MessagePartType.TEXT.value
TOOL_CALL = sc.MessagePartType.TOOL_CALL.value
TOOL_CALL_RESPONSE = sc.MessagePartType.TOOL_CALL_RESPONSE.value
JSON = "json"  # a part that is structured data rather than prose (shown as code)


@dataclass(frozen=True)
class ChatPart:
    kind: str  # text, tool_call, tool_call_response, json, or the part's own type
    text: str  # the content, the call's arguments, the response, or the part as JSON
    name: str = ""  # tool name of a tool call
    call_id: str = ""


@dataclass(frozen=True)
class ChatMessage:
    role: str
    parts: tuple[ChatPart, ...] = field(default_factory=tuple)
    finish_reason: str = ""


@dataclass(frozen=True)
class ToolCall:
    name: str
    call_id: str
    arguments: str
    response: str | None  # None when the conversation holds no answer to the call


def conversation(text: str, default_role: str) -> list[ChatMessage]:
    """The messages in `text`; plain text (or other JSON) is one message of `default_role`."""
    if not text:
        return []
    decoded = _json(text)
    if isinstance(decoded, list) and decoded and all(_is_message(item) for item in decoded):
        return [_message(item) for item in decoded]
    if isinstance(decoded, Mapping) and _is_message(decoded):
        return [_message(decoded)]
    if decoded is not None and not isinstance(decoded, str):
        return [
            ChatMessage(default_role, (ChatPart(JSON, json.dumps(decoded, indent=2, ensure_ascii=False)),))
        ]
    return [ChatMessage(default_role, (ChatPart(TEXT, text),))]


def tool_calls(messages: list[ChatMessage]) -> list[ToolCall]:
    """Every tool call in `messages`, with the response that answered it (matched by call id)."""
    responses = {
        part.call_id: part.text
        for message in messages
        for part in message.parts
        if part.kind == TOOL_CALL_RESPONSE and part.call_id
    }
    return [
        ToolCall(part.name, part.call_id, part.text, responses.get(part.call_id))
        for message in messages
        for part in message.parts
        if part.kind == TOOL_CALL
    ]


def _json(text: str) -> object | None:
    stripped = text.lstrip()
    if not stripped or stripped[0] not in '[{"':
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _is_message(item: object) -> bool:
    return (
        isinstance(item, Mapping)
        and sc.MESSAGE_ROLE in item
        and (sc.MESSAGE_PARTS in item or sc.MESSAGE_CONTENT in item)
    )


def _message(item: Mapping[str, object]) -> ChatMessage:
    raw_parts = item.get(sc.MESSAGE_PARTS)
    if not isinstance(raw_parts, list):
        content = item.get(sc.MESSAGE_CONTENT)
        raw_parts = [{sc.MESSAGE_PART_TYPE: TEXT, sc.MESSAGE_CONTENT: content}] if content else []
    return ChatMessage(
        role=str(item.get(sc.MESSAGE_ROLE) or "unknown"),
        parts=tuple(_part(part) for part in raw_parts),
        finish_reason=str(item.get(sc.MESSAGE_FINISH_REASON) or ""),
    )


def _part(part: object) -> ChatPart:
    if not isinstance(part, Mapping):
        return ChatPart(TEXT, _as_text(part))
    kind = str(part.get(sc.MESSAGE_PART_TYPE) or TEXT)
    call_id = str(part.get(sc.MESSAGE_PART_ID) or "")
    if kind == TEXT:
        return ChatPart(TEXT, _as_text(part.get(sc.MESSAGE_CONTENT)))
    if kind == TOOL_CALL:
        return ChatPart(
            TOOL_CALL,
            _as_text(part.get(sc.MESSAGE_PART_ARGUMENTS)),
            name=str(part.get(sc.MESSAGE_PART_NAME) or ""),
            call_id=call_id,
        )
    if kind == TOOL_CALL_RESPONSE:
        return ChatPart(TOOL_CALL_RESPONSE, _as_text(part.get(sc.MESSAGE_PART_RESPONSE)), call_id=call_id)
    return ChatPart(kind, json.dumps(part, indent=2, ensure_ascii=False, default=str))


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
