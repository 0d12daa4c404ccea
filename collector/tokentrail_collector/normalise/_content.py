"""The messages one GenAI event carries, whether it came as a span event or as a log record.

OpenTelemetry's GenAI events (`gen_ai.user.message`, `gen_ai.choice`, ...,
`gen_ai.client.inference.operation.details`) and the older `gen_ai.content.prompt` /
`gen_ai.content.completion` events say the same things as span events (everything in attributes)
and as log records (the message in the body): `event_content` reads both into canonical messages
(see `_messages`), the span normaliser to fill a span's content, the log normaliser to fill the
span content table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tokentrail import semconv as sc
from tokentrail_collector.normalise._messages import (
    Message,
    message,
    message_of,
    messages_of,
    system_message,
    text_part,
)
from tokentrail_collector.normalise._values import AttributeValue, as_text, json_object

# The role each message event stands for.
MESSAGE_EVENT_ROLES: dict[str, str] = {
    sc.GEN_AI_SYSTEM_MESSAGE_EVENT: "system",
    sc.GEN_AI_USER_MESSAGE_EVENT: "user",
    sc.GEN_AI_ASSISTANT_MESSAGE_EVENT: "assistant",
    sc.GEN_AI_TOOL_MESSAGE_EVENT: "tool",
}
CONTENT_EVENTS = frozenset({
    *MESSAGE_EVENT_ROLES, sc.GEN_AI_CHOICE_EVENT, sc.GEN_AI_OPERATION_DETAILS_EVENT,
    sc.GEN_AI_CONTENT_PROMPT_EVENT, sc.GEN_AI_CONTENT_COMPLETION_EVENT,
})  # fmt: skip


@dataclass(slots=True)
class EventContent:
    """What one event says of its span's content: input and output messages, or plain text where
    the source has no messages (the older content events often carry a bare prompt)."""

    role: str = ""  # the role of its one message; '' when it carries several or none
    input: list[Message] = field(default_factory=list)
    output: list[Message] = field(default_factory=list)
    input_text: str | None = None
    output_text: str | None = None

    def messages_only(self) -> EventContent:
        """The same with plain text turned into a message (a user prompt, an assistant answer)."""
        inputs = [*self.input, *([message("user", [text_part(self.input_text)])] if self.input_text else [])]
        outputs = [
            *self.output,
            *([message("assistant", [text_part(self.output_text)])] if self.output_text else []),
        ]
        role = self.role or _only_role(inputs, outputs)
        return EventContent(role, inputs, outputs)


def _only_role(inputs: list[Message], outputs: list[Message]) -> str:
    both = inputs + outputs
    return str(both[0][sc.MESSAGE_ROLE]) if len(both) == 1 else ""


def event_content(
    name: str, attributes: Mapping[str, AttributeValue], body: AttributeValue = None
) -> EventContent | None:
    """The content of event `name`, from its body (a log record's) or its attributes; None for an
    event that carries no content."""
    role = MESSAGE_EVENT_ROLES.get(name)
    if role is not None:
        source = _source(attributes, body)
        if isinstance(source, str):
            found: Message | None = message(role, [text_part(source)]) if source else None
        else:
            found = message_of(source, role=role) if source is not None else None
        if found is None or not found[sc.MESSAGE_PARTS]:  # no content: capture was off
            return None
        return EventContent(str(found[sc.MESSAGE_ROLE]), input=[found])
    if name == sc.GEN_AI_CHOICE_EVENT:
        return _choice(attributes, body)
    if name == sc.GEN_AI_OPERATION_DETAILS_EVENT:
        return _operation_details(attributes, body)
    if name == sc.GEN_AI_CONTENT_PROMPT_EVENT:
        return _prompt_or_completion(attributes.get(sc.GEN_AI_PROMPT, body), output=False)
    if name == sc.GEN_AI_CONTENT_COMPLETION_EVENT:
        return _prompt_or_completion(attributes.get(sc.GEN_AI_COMPLETION, body), output=True)
    return None


def _source(
    attributes: Mapping[str, AttributeValue], body: AttributeValue
) -> Mapping[str, AttributeValue] | str | None:
    """Where an event's message is: the body, the JSON of `gen_ai.event.content`, or the attributes."""
    if isinstance(body, dict):
        return body
    if isinstance(body, str) and body:
        return json_object(body) or body
    packed = json_object(attributes.get(sc.GEN_AI_EVENT_CONTENT))
    if packed is not None:
        return packed
    return attributes if sc.MESSAGE_CONTENT in attributes or sc.MESSAGE_TOOL_CALLS in attributes else None


def _choice(attributes: Mapping[str, AttributeValue], body: AttributeValue) -> EventContent | None:
    source = _source(attributes, body)
    if source is None and "message" in attributes:
        source = attributes
    if source is None:
        return None
    if isinstance(source, str):
        return EventContent("assistant", output=[message("assistant", [text_part(source)])])
    inner = source.get("message")
    body_message = json_object(inner) if isinstance(inner, str) else inner
    found = message_of(body_message if isinstance(body_message, dict) else source, role="assistant")
    if found is None or not found[sc.MESSAGE_PARTS]:
        return None
    reason = as_text(source.get(sc.MESSAGE_FINISH_REASON))
    if reason:
        found[sc.MESSAGE_FINISH_REASON] = reason
    return EventContent(str(found[sc.MESSAGE_ROLE]), output=[found])


def _operation_details(attributes: Mapping[str, AttributeValue], body: AttributeValue) -> EventContent | None:
    source: Mapping[str, AttributeValue] = attributes
    if sc.GEN_AI_INPUT_MESSAGES not in attributes and isinstance(body, dict):
        source = body
    inputs = messages_of(source.get(sc.GEN_AI_INPUT_MESSAGES)) or []
    system = system_message(source.get(sc.GEN_AI_SYSTEM_INSTRUCTIONS))
    if system is not None and not any(found[sc.MESSAGE_ROLE] == "system" for found in inputs):
        inputs.insert(0, system)
    outputs = messages_of(source.get(sc.GEN_AI_OUTPUT_MESSAGES)) or []
    if not inputs and not outputs:
        return None
    return EventContent("", inputs, outputs)


def _prompt_or_completion(value: AttributeValue, *, output: bool) -> EventContent | None:
    found = messages_of(value)
    if found is not None:
        return EventContent("", output=found) if output else EventContent("", input=found)
    text = as_text(value)
    if text is None:
        return None
    return EventContent("", output_text=text) if output else EventContent("", input_text=text)
