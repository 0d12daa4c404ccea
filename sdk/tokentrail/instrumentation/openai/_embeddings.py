"""OpenAI embeddings (`embeddings.create`): model, requested format and dimensions, input tokens.

The texts embedded are not messages and are not recorded; the vectors neither.
"""

from __future__ import annotations

from typing import Any

from openai.types import CreateEmbeddingResponse

from tokentrail import semconv
from tokentrail.instrumentation._call import Kwargs, LLMCall


def read_request(call: LLMCall, kwargs: Kwargs) -> None:
    encoding_format = kwargs.get("encoding_format")
    if isinstance(encoding_format, str):
        call.set(semconv.GEN_AI_REQUEST_ENCODING_FORMATS, (encoding_format,))
    dimensions = kwargs.get("dimensions")
    if dimensions.__class__ is int:
        call.set(semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, dimensions)


def read_result(call: LLMCall, result: Any) -> None:
    if not isinstance(result, CreateEmbeddingResponse):
        return
    call.set(semconv.GEN_AI_RESPONSE_MODEL, result.model)
    usage = result.usage
    if usage is not None:
        call.set_usage(usage.prompt_tokens, None, total=usage.total_tokens)
