"""Chat messages from every dialect in one shape: OpenTelemetry GenAI's `gen_ai.input.messages`.

`input_text` and `output_text` hold a compact JSON list of messages wherever the source has
messages, `[{"role": "user", "parts": [{"type": "text", "content": "..."}]}]` (output messages add
`finish_reason`), and plain text where the source has plain text, so the UI renders any dialect
as a chat. Parts are OpenTelemetry's: `text`, `tool_call` (id, name, arguments) and
`tool_call_response` (id, response); other typed parts pass through unchanged.

Readers here accept the message shapes instrumentations send: OpenTelemetry's own (`parts`), the
chat-completions shape (`content` as text or blocks, `tool_calls`, `tool_call_id`), Anthropic's
blocks (`text`, `tool_use`, `tool_result`), request and response bodies (`messages`, `choices`),
and the numbered attribute lists of OpenInference and OpenLLMetry once nested by `nest`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TypeAlias

from tokentrail import semconv as sc
from tokentrail_collector.normalise._values import AttributeValue, as_text, compact_json

Message: TypeAlias = dict[str, object]
Part: TypeAlias = dict[str, object]

_ROLE = sc.MESSAGE_ROLE
_PARTS = sc.MESSAGE_PARTS
_CONTENT = sc.MESSAGE_CONTENT
_TYPE = sc.MESSAGE_PART_TYPE
_FINISH_REASON = sc.MESSAGE_FINISH_REASON
_TOOL_CALLS = sc.MESSAGE_TOOL_CALLS
# Keys that make a JSON object a message (with a role) rather than any object that has a role.
_MESSAGE_BODY_KEYS = frozenset({_PARTS, _CONTENT, _TOOL_CALLS, "text", "function_call"})


def text_part(text: str) -> Part:
    return {_TYPE: "text", _CONTENT: text}


def message(role: str, parts: list[Part], finish_reason: str | None = None) -> Message:
    built: Message = {_ROLE: role, _PARTS: parts}
    if finish_reason:
        built[_FINISH_REASON] = finish_reason
    return built


def messages_json(messages: Iterable[Message]) -> str:
    return compact_json(list(messages))


def parts_of(content: object) -> list[Part]:
    """The parts of a message's content: text, a list of blocks, or parts already."""
    if content is None or content == "":
        return []
    if isinstance(content, str):
        blocks = _json_blocks(content)
        return [text_part(content)] if blocks is None else parts_of(blocks)
    if isinstance(content, Mapping):
        return [_part_of_block(content)]
    if isinstance(content, list):
        return [
            _part_of_block(block) if isinstance(block, Mapping) else text_part(_as_str(block))
            for block in content
        ]
    return [text_part(_as_str(content))]


def _json_blocks(text: str) -> list[object] | None:
    """Content blocks serialised as JSON text (as OpenLLMetry stores non-text content), else None."""
    if not text.startswith("[{"):
        return None
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    if (
        isinstance(decoded, list)
        and decoded
        and all(isinstance(block, dict) and _TYPE in block for block in decoded)
    ):
        return decoded
    return None


def _part_of_block(block: Mapping[str, object]) -> Part:
    kind = block.get(_TYPE)
    if kind == "text" or (kind is None and ("text" in block or _CONTENT in block)):
        text = block.get("text", block.get(_CONTENT))
        return text_part(_as_str(text))
    if kind in ("tool_use", "function"):  # Anthropic's tool_use block; a chat-completions tool call
        function = block.get("function")
        if isinstance(function, Mapping):
            return _tool_call(block.get("id"), function.get("name"), function.get("arguments"))
        return _tool_call(block.get("id"), block.get("name"), block.get("input", block.get("arguments")))
    if kind == "tool_result":
        return {_TYPE: "tool_call_response", "id": block.get("tool_use_id"), "response": block.get(_CONTENT)}
    return dict(block)


def _tool_call(call_id: object, name: object, arguments: object) -> Part:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            pass
    return {_TYPE: "tool_call", "id": call_id, "name": name, "arguments": arguments}


def _as_str(value: object) -> str:
    return value if isinstance(value, str) else compact_json(value)


def message_of(value: Mapping[str, object], *, role: str | None = None) -> Message | None:
    """One message in the canonical shape, from any dialect's message object; None for an object
    that is not a message. `role` is the role when the object names none (an event's)."""
    named_role = value.get(_ROLE)
    if not isinstance(named_role, str) or not named_role:
        if role is None:
            return None
        named_role = role
    parts_value = value.get(_PARTS)
    if isinstance(parts_value, list):
        parts = [
            dict(part) if isinstance(part, Mapping) else text_part(_as_str(part)) for part in parts_value
        ]
    else:
        parts = parts_of(value.get(_CONTENT, value.get("text")))
    tool_calls = value.get(_TOOL_CALLS)
    if isinstance(tool_calls, Mapping):  # a numbered list once nested: {0: {...}, 1: {...}}
        tool_calls = ordered(tool_calls)
    if isinstance(tool_calls, list):
        parts.extend(_tool_call_part(call) for call in tool_calls if isinstance(call, Mapping))
    function_call = value.get("function_call")
    if isinstance(function_call, Mapping):
        parts.append(_tool_call(None, function_call.get("name"), function_call.get("arguments")))
    call_id = value.get("tool_call_id", value.get("id") if named_role == "tool" else None)
    if named_role == "tool" and call_id is not None:
        parts = [{_TYPE: "tool_call_response", "id": call_id, "response": _response_of(parts)}]
    finish_reason = value.get(_FINISH_REASON, value.get("stop_reason"))  # Anthropic: stop_reason
    return message(named_role, parts, finish_reason if isinstance(finish_reason, str) else None)


def _tool_call_part(call: Mapping[str, object]) -> Part:
    nested = call.get(sc.OI_TOOL_CALL)  # OpenInference: tool_calls.N.tool_call.function.name
    if isinstance(nested, Mapping):
        call = nested
    function = call.get("function")
    if isinstance(function, Mapping):
        return _tool_call(call.get("id"), function.get("name"), function.get("arguments"))
    return _tool_call(call.get("id"), call.get("name"), call.get("arguments", call.get("input")))


def _response_of(parts: list[Part]) -> object:
    if len(parts) == 1 and parts[0].get(_TYPE) == "text":
        return parts[0][_CONTENT]
    return parts


def messages_of(value: object) -> list[Message] | None:
    """The messages a value holds, in the canonical shape, or None when it holds no messages.

    A value is a list of message objects, one message object, a request body with `messages`
    (and Anthropic's `system`), a chat-completions response (`choices`), an Anthropic response, or
    JSON text of any of them.
    """
    if isinstance(value, str):
        if not value.startswith(("[", "{")):
            return None
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, list):
        if not value or not all(_is_message(item) for item in value):
            return None
        return [message_of(item) for item in value]  # type: ignore[arg-type,misc]
    if not isinstance(value, Mapping):
        return None
    if _is_message(value):
        return [message_of(value)]  # type: ignore[list-item]
    request_messages = value.get("messages")
    if isinstance(request_messages, list):
        found = messages_of(request_messages) or []
        system = value.get("system")
        if system:
            found.insert(0, message("system", parts_of(system)))
        return found or None
    choices = value.get("choices")
    if isinstance(choices, list):
        return _messages_of_choices(choices)
    return None


def _is_message(value: object) -> bool:
    # A role that is empty names no one: such an object is not a message (message_of refuses it).
    if not isinstance(value, Mapping):
        return False
    role = value.get(_ROLE)
    return isinstance(role, str) and role != "" and not _MESSAGE_BODY_KEYS.isdisjoint(value)


def _messages_of_choices(choices: list[object]) -> list[Message] | None:
    found = []
    for choice in choices:
        if not isinstance(choice, Mapping):
            continue
        body = choice.get("message")
        if isinstance(body, Mapping):
            built = message_of(body, role="assistant")
        elif isinstance(choice.get("text"), str):  # the completions API
            built = message("assistant", [text_part(choice["text"])])  # type: ignore[arg-type]
        else:
            continue
        if built is not None:
            reason = choice.get(_FINISH_REASON)
            if isinstance(reason, str) and reason:
                built[_FINISH_REASON] = reason
            found.append(built)
    return found or None


def as_message_text(value: AttributeValue) -> str | None:
    """A content column's value: canonical message JSON where the value holds messages, else its text."""
    found = messages_of(value)
    if found is not None:
        return messages_json(found)
    return as_text(value)


def as_genai_messages(value: AttributeValue) -> str | None:
    """`gen_ai.input.messages` / `gen_ai.output.messages`: already the canonical shape when text
    (kept as sent, nothing parsed), converted when structured (log records carry them so)."""
    if value.__class__ is str:
        return value or None  # type: ignore[return-value]
    return as_message_text(value)


def system_message(instructions: object) -> Message | None:
    """The system message of `gen_ai.system_instructions` (a list of parts, or text)."""
    if isinstance(instructions, str):
        decoded = _json_blocks(instructions) if instructions.startswith("[") else None
        parts = parts_of(decoded) if decoded is not None else parts_of(instructions)
    elif isinstance(instructions, list):
        parts = parts_of(instructions)
    else:
        return None
    return message("system", parts) if parts else None


# --- numbered attribute lists ---------------------------------------------------------------------


def nest(flat: Mapping[str, AttributeValue]) -> dict[object, object]:
    """Dotted keys as nested dicts, number segments as int keys: {"0.message.role": "user"} gives
    {0: {"message": {"role": "user"}}}. A key that is both a value and a prefix keeps the value."""
    root: dict[object, object] = {}
    for key, value in flat.items():
        node = root
        segments = key.split(".")
        for segment in segments[:-1]:
            name: object = int(segment) if segment.isdecimal() else segment
            child = node.get(name)
            if not isinstance(child, dict):
                if child is not None:
                    break
                child = node[name] = {}
            node = child
        else:
            last = segments[-1]
            leaf: object = int(last) if last.isdecimal() else last
            node[leaf] = value
    return root


def ordered(numbered: Mapping[object, object]) -> list[object]:
    """The values of a nested numbered list in index order (non-number keys left out)."""
    return [numbered[index] for index in sorted(key for key in numbered if isinstance(key, int))]


def gather(attributes: Mapping[str, AttributeValue], prefix: str) -> dict[str, AttributeValue]:
    """The attributes under `prefix`, keyed by the rest of their key."""
    cut = len(prefix)
    return {key[cut:]: value for key, value in attributes.items() if key.startswith(prefix)}
