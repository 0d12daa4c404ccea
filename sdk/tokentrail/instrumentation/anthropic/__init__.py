"""Instrumentation of the `anthropic` client: messages, sync and async, `stream=True` and `messages.stream()`.

`messages.stream()` sends its request only when its context manager is entered, so its span starts
there. Recent `anthropic` releases also emit a span of their own per API call (`anthropic.messages.create`,
through the global tracer provider, unless `ANTHROPIC_OPEN_TELEMETRY=false`): it nests under ours.
The `anthropic` package is imported only when `instrument()` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tokentrail.instrumentation._base import Instrumentor, Patch
from tokentrail.instrumentation._call import Operation, async_wrapper, sync_wrapper
from tokentrail.semconv import GenAiOperation, GenAiProvider, SpanKind

_MESSAGES_MODULE = "anthropic.resources.messages.messages"


class AnthropicInstrumentor(Instrumentor):
    name = "anthropic"
    library = "anthropic"

    def patches(self) -> Sequence[Patch]:
        from anthropic import AsyncStream, Stream
        from anthropic.lib.streaming import AsyncMessageStream, MessageStream

        from tokentrail.instrumentation._streams import AsyncStreamProxy, StreamProxy, manager_wrapper
        from tokentrail.instrumentation.anthropic import _messages

        create = Operation(
            GenAiProvider.ANTHROPIC.value, GenAiOperation.CHAT.value, SpanKind.LLM.value,
            _messages.read_request, _messages.read_result, _messages.EventAccumulator, (Stream,), StreamProxy,
        )  # fmt: skip
        async_create = replace(create, stream_types=(AsyncStream,), stream_proxy=AsyncStreamProxy)
        helper = replace(create, stream_types=(MessageStream,), stream_proxy=_messages.MessageStreamProxy)
        async_helper = replace(
            create, stream_types=(AsyncMessageStream,), stream_proxy=_messages.AsyncMessageStreamProxy
        )
        return [
            Patch(_MESSAGES_MODULE, "Messages.create", sync_wrapper(create, self)),
            Patch(_MESSAGES_MODULE, "Messages.parse", sync_wrapper(create, self)),
            Patch(_MESSAGES_MODULE, "Messages.stream", manager_wrapper(helper, self)),
            Patch(_MESSAGES_MODULE, "AsyncMessages.create", async_wrapper(async_create, self)),
            Patch(_MESSAGES_MODULE, "AsyncMessages.parse", async_wrapper(async_create, self)),
            # A plain method returning a manager whose `__aenter__` sends the request.
            Patch(_MESSAGES_MODULE, "AsyncMessages.stream", manager_wrapper(async_helper, self)),
        ]
