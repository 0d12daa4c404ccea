"""Builders for OpenTelemetry GenAI message JSON: messages, their parts, and tool definitions.

`gen_ai.input.messages` / `gen_ai.output.messages` hold `[{"role": ..., "parts": [...]}]` (output
messages add `finish_reason`); parts are `text`, `tool_call` (id, name, arguments),
`tool_call_response` (id, response), `reasoning`, `uri`, or the provider's own block passed through.
Provider modules read the request (dicts, as the caller wrote them, or the clients' pydantic models)
with `field()`, which never consumes an iterator the caller handed over.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, cast

from tokentrail import semconv
from tokentrail.semconv import MessagePartType

Part = dict[str, Any]
Message = dict[str, Any]

_TYPE = semconv.MESSAGE_PART_TYPE
_CONTENT = semconv.MESSAGE_CONTENT
_TEXT = MessagePartType.TEXT.value
_TOOL_CALL = MessagePartType.TOOL_CALL.value
_TOOL_CALL_RESPONSE = MessagePartType.TOOL_CALL_RESPONSE.value
_REASONING = MessagePartType.REASONING.value


def field(value: object, key: str) -> Any:
    """`value[key]` for a mapping, else its attribute `key`; None when absent."""
    if value.__class__ is dict or isinstance(value, Mapping):  # dicts first: an ABC check is slow
        return value.get(key)
    return getattr(value, key, None)


def listed(value: object) -> list[Any] | tuple[Any, ...] | None:
    """`value` if it is a list or tuple: anything else (a generator, say) is not read, so not consumed."""
    return value if isinstance(value, (list, tuple)) else None


def text_part(text: str) -> Part:
    return {_TYPE: _TEXT, _CONTENT: text}


def reasoning_part(text: str) -> Part:
    return {_TYPE: _REASONING, _CONTENT: text}


def tool_call_part(call_id: object, name: object, arguments: object) -> Part:
    return {
        _TYPE: _TOOL_CALL,
        semconv.MESSAGE_PART_ID: call_id,
        semconv.MESSAGE_PART_NAME: name,
        semconv.MESSAGE_PART_ARGUMENTS: decoded_arguments(arguments),
    }


def tool_response_part(call_id: object, response: object) -> Part:
    return {
        _TYPE: _TOOL_CALL_RESPONSE,
        semconv.MESSAGE_PART_ID: call_id,
        semconv.MESSAGE_PART_RESPONSE: response,
    }


def image_part(uri: object) -> Part:
    return {
        _TYPE: MessagePartType.URI.value,
        semconv.MESSAGE_PART_MODALITY: "image",
        semconv.MESSAGE_PART_URI: uri,
    }


def message(role: object, parts: list[Part], finish_reason: object = None) -> Message:
    built: Message = {semconv.MESSAGE_ROLE: role, semconv.MESSAGE_PARTS: parts}
    if finish_reason is not None:
        built[semconv.MESSAGE_FINISH_REASON] = finish_reason
    return built


def decoded_arguments(arguments: object) -> object:
    """Tool-call arguments as JSON values where they are JSON text (as OpenAI sends them)."""
    if isinstance(arguments, str) and arguments[:1] in ("{", "["):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def plain(value: object) -> object:
    """A provider's pydantic object as plain data (dicts pass as they are) for JSON."""
    if value.__class__ is dict:
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, Mapping):
        return dump(mode="json", exclude_none=True)
    return value


def plain_part(block: object) -> Part:
    """A content block tokentrail has no reader for, passed on as the provider's own (`plain`) data.

    Typed as a part because providers' blocks are pydantic objects or dicts, which `plain` makes dicts.
    """
    return cast(Part, plain(block))


def tool_definition(kind: object, name: object, description: object, parameters: object) -> dict[str, Any]:
    definition: dict[str, Any] = {semconv.TOOL_DEFINITION_TYPE: kind}
    if name is not None:
        definition[semconv.TOOL_DEFINITION_NAME] = name
    if description is not None:
        definition[semconv.TOOL_DEFINITION_DESCRIPTION] = description
    if parameters is not None:
        definition[semconv.TOOL_DEFINITION_PARAMETERS] = plain(parameters)
    return definition


def messages_text(messages: Iterable[Message]) -> str:
    """The text of `messages` (text, reasoning, tool-call arguments and responses), for token estimates."""
    return "\n".join(
        text for entry in messages for text in parts_text(entry.get(semconv.MESSAGE_PARTS) or ())
    )


def parts_text(parts: Iterable[Part]) -> list[str]:
    texts = []
    for part in parts:
        content = part.get(_CONTENT)
        if isinstance(content, str):
            texts.append(content)
        for key in (semconv.MESSAGE_PART_ARGUMENTS, semconv.MESSAGE_PART_RESPONSE):
            value = part.get(key)
            if value is not None:
                texts.append(value if isinstance(value, str) else json.dumps(value, default=str))
    return texts
