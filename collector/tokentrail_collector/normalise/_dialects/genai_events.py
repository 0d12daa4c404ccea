"""Content carried in span events rather than attributes: OpenTelemetry's GenAI events
(`gen_ai.user.message`, `gen_ai.choice`, `gen_ai.client.inference.operation.details`, ...) and the
older `gen_ai.content.prompt` / `gen_ai.content.completion`. The last dialect: attributes win."""

from __future__ import annotations

from tokentrail import semconv as sc
from tokentrail_collector.normalise._content import CONTENT_EVENTS, EventContent, event_content
from tokentrail_collector.normalise._dialect import Dialect, GatedDeriver, SpanView
from tokentrail_collector.normalise._messages import messages_json


def content_from_events(span: SpanView, found: dict[str, object]) -> None:
    """input_text and output_text from the span's content events, where no attribute gave them.

    Messages where any event has messages (bare text then joins as a user or assistant message),
    else the events' plain text.
    """
    if not span.events:
        return
    need_input = sc.INPUT_TEXT not in found
    need_output = sc.OUTPUT_TEXT not in found
    if not (need_input or need_output):
        return
    contents: list[EventContent] = []
    for event in span.events:
        if event["name"] in CONTENT_EVENTS:
            content = event_content(event["name"], event["attributes"])
            if content is not None:
                contents.append(content)
    if not contents:
        return
    if need_input:
        if any(content.input for content in contents):
            found[sc.INPUT_TEXT] = messages_json(m for c in contents for m in c.messages_only().input)
        elif texts := [content.input_text for content in contents if content.input_text]:
            found[sc.INPUT_TEXT] = "\n".join(texts)
    if need_output:
        if any(content.output for content in contents):
            found[sc.OUTPUT_TEXT] = messages_json(m for c in contents for m in c.messages_only().output)
        elif texts := [content.output_text for content in contents if content.output_text]:
            found[sc.OUTPUT_TEXT] = "\n".join(texts)


GENAI_EVENTS = Dialect("gen_ai events", derivers=(GatedDeriver(content_from_events, events=True),))
