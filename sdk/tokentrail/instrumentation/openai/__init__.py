"""Instrumentation of the `openai` client (v1 API and later): chat completions, responses, embeddings.

Sync and async clients, streamed and not. The helpers built on these methods (`chat.completions.stream`,
`responses.stream`) go through `create` and are covered by it; their streams' `close()` (also run on
leaving the `with` block) closes only the HTTP response, so it is wrapped to end the span. The `openai`
package is imported only when `instrument()` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tokentrail.instrumentation._base import Instrumentor, Patch
from tokentrail.instrumentation._call import Operation, async_wrapper, sync_wrapper
from tokentrail.semconv import GenAiOperation, GenAiProvider, SpanKind

_CHAT_MODULE = "openai.resources.chat.completions.completions"
_RESPONSES_MODULE = "openai.resources.responses.responses"
_EMBEDDINGS_MODULE = "openai.resources.embeddings"
_HELPER_STREAMS = (
    ("openai.lib.streaming.chat._completions", "ChatCompletionStream"),
    ("openai.lib.streaming.responses._responses", "ResponseStream"),
)


class OpenAIInstrumentor(Instrumentor):
    name = "openai"
    library = "openai"

    def patches(self) -> Sequence[Patch]:
        from openai import AsyncStream, Stream

        from tokentrail.instrumentation._streams import (
            AsyncStreamProxy,
            StreamProxy,
            async_helper_close_wrapper,
            helper_close_wrapper,
        )
        from tokentrail.instrumentation.openai import _chat, _embeddings, _responses

        provider = GenAiProvider.OPENAI.value
        llm = SpanKind.LLM.value
        chat = Operation(
            provider, GenAiOperation.CHAT.value, llm, _chat.read_request, _chat.read_result,
            _chat.ChunkAccumulator, (Stream,), StreamProxy,
        )  # fmt: skip
        responses = replace(
            chat,
            read_request=_responses.read_request,
            read_result=_responses.read_result,
            accumulator=_responses.EventAccumulator,
        )
        embeddings = Operation(
            provider, GenAiOperation.EMBEDDINGS.value, SpanKind.EMBEDDING.value,
            _embeddings.read_request, _embeddings.read_result,
        )  # fmt: skip

        def asynchronous(operation: Operation) -> Operation:
            if operation.accumulator is None:
                return operation
            return replace(operation, stream_types=(AsyncStream,), stream_proxy=AsyncStreamProxy)

        methods = (
            (_CHAT_MODULE, "Completions", ("create", "parse"), chat),
            (_RESPONSES_MODULE, "Responses", ("create", "parse"), responses),
            (_EMBEDDINGS_MODULE, "Embeddings", ("create",), embeddings),
        )
        patches = []
        for module, resource, names, operation in methods:
            for name in names:
                patches.append(Patch(module, f"{resource}.{name}", sync_wrapper(operation, self)))
                patches.append(
                    Patch(module, f"Async{resource}.{name}", async_wrapper(asynchronous(operation), self))
                )
        for module, helper in _HELPER_STREAMS:
            patches.append(Patch(module, f"{helper}.close", helper_close_wrapper))
            patches.append(Patch(module, f"Async{helper}.close", async_helper_close_wrapper))
        return patches
