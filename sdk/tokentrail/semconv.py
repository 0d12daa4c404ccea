"""The one vocabulary of tokentrail: attribute keys, span kinds and canonical column names.

The SDK writes these keys, the collector reads them (beside other dialects) and the query API
and the UI speak in the canonical column names. Nothing else in the code base spells them out.
`gen_ai.*` names are OpenTelemetry's GenAI semantic conventions wherever those have a name.
"""

from __future__ import annotations

from enum import Enum
from typing import Final


class SpanKind(str, Enum):
    """What a span is, from the LLM application's point of view."""

    LLM = "llm"
    EMBEDDING = "embedding"
    CHAIN = "chain"
    AGENT = "agent"
    TOOL = "tool"
    RETRIEVAL = "retrieval"
    OTHER = "other"


class StatusCode(str, Enum):
    OK = "ok"
    ERROR = "error"
    UNSET = "unset"


class CostSource(str, Enum):
    SDK = "sdk"
    PRICE_TABLE = "price_table"
    CUSTOM_PRICE = "custom_price"
    UNKNOWN = "unknown"


class GenAiOperation(str, Enum):
    """Values of `gen_ai.operation.name` (OpenTelemetry GenAI), plus one older spelling."""

    CHAT = "chat"
    TEXT_COMPLETION = "text_completion"
    GENERATE_CONTENT = "generate_content"
    EMBEDDINGS = "embeddings"
    EXECUTE_TOOL = "execute_tool"
    INVOKE_AGENT = "invoke_agent"
    CREATE_AGENT = "create_agent"
    COMPLETION = "completion"  # not an OpenTelemetry value; older instrumentations send it


# --- OpenTelemetry GenAI semantic conventions (current names) -------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_PREFIX: Final = "gen_ai.request."
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_USAGE_TOTAL_TOKENS: Final = "gen_ai.usage.total_tokens"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"

# --- OpenTelemetry GenAI semantic conventions (deprecated names still emitted by many) --------
GEN_AI_SYSTEM: Final = "gen_ai.system"
GEN_AI_USAGE_PROMPT_TOKENS: Final = "gen_ai.usage.prompt_tokens"
GEN_AI_USAGE_COMPLETION_TOKENS: Final = "gen_ai.usage.completion_tokens"
GEN_AI_PROMPT: Final = "gen_ai.prompt"
GEN_AI_COMPLETION: Final = "gen_ai.completion"

# --- General OpenTelemetry conventions ---------------------------------------------------------
SERVICE_NAME: Final = "service.name"
UNKNOWN_SERVICE: Final = "unknown_service"  # service_name when the resource names none
SESSION_ID: Final = "session.id"
USER_ID: Final = "user.id"
ERROR_TYPE: Final = "error.type"
EXCEPTION_EVENT: Final = "exception"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"

# --- tokentrail's own attributes (no OpenTelemetry name exists) ----------------------------------
TT_PREFIX: Final = "tokentrail."
TT_SPAN_KIND: Final = "tokentrail.span.kind"
TT_INPUT: Final = "tokentrail.input"  # JSON of the observed function's arguments
TT_OUTPUT: Final = "tokentrail.output"  # JSON of its return value (or what it yielded)
TT_COST_USD: Final = "tokentrail.cost_usd"
TT_TAGS: Final = "tokentrail.tags"
TT_METADATA_PREFIX: Final = "tokentrail.metadata."
TT_TIME_TO_FIRST_TOKEN_MS: Final = "tokentrail.time_to_first_token_ms"
TT_IS_STREAMING: Final = "tokentrail.is_streaming"
TT_TOKENS_ESTIMATED: Final = "tokentrail.tokens_estimated"
TT_TRUNCATED: Final = "tokentrail.truncated"  # names of attributes cut at the size limit
TT_PROJECT: Final = "tokentrail.project"  # resource attribute: informative, the API key decides
TT_SDK_VERSION: Final = "tokentrail.sdk.version"
TT_GPU_UTIL_AVG: Final = "tokentrail.gpu.utilization.avg"
TT_GPU_UTIL_MAX: Final = "tokentrail.gpu.utilization.max"
TT_GPU_MEMORY_PEAK_BYTES: Final = "tokentrail.gpu.memory.peak_bytes"
TT_GPU_POWER_AVG_WATTS: Final = "tokentrail.gpu.power.avg_watts"
TT_GPU_ENERGY_JOULES: Final = "tokentrail.gpu.energy_joules"

# --- Canonical span row: the columns the normaliser produces and the query API returns --------
PROJECT_ID: Final = "project_id"
TRACE_ID: Final = "trace_id"
SPAN_ID: Final = "span_id"
PARENT_SPAN_ID: Final = "parent_span_id"
NAME: Final = "name"
KIND: Final = "kind"
SERVICE: Final = "service_name"
START_TIME: Final = "start_time"
END_TIME: Final = "end_time"
DURATION_MS: Final = "duration_ms"
TIME_TO_FIRST_TOKEN_MS: Final = "time_to_first_token_ms"
STATUS_CODE: Final = "status_code"
STATUS_MESSAGE: Final = "status_message"
ERROR_TYPE_COLUMN: Final = "error_type"
FINISH_REASONS: Final = "finish_reasons"
PROVIDER: Final = "provider"
OPERATION: Final = "operation"
REQUEST_MODEL: Final = "request_model"
RESPONSE_MODEL: Final = "response_model"
IS_STREAMING: Final = "is_streaming"
REQUEST_PARAMS: Final = "request_params"
INPUT_TOKENS: Final = "input_tokens"
OUTPUT_TOKENS: Final = "output_tokens"
CACHED_INPUT_TOKENS: Final = "cached_input_tokens"
REASONING_TOKENS: Final = "reasoning_tokens"
TOTAL_TOKENS: Final = "total_tokens"
TOKENS_ESTIMATED: Final = "tokens_estimated"
COST_USD: Final = "cost_usd"
COST_SOURCE: Final = "cost_source"
INPUT_TEXT: Final = "input_text"
OUTPUT_TEXT: Final = "output_text"
GPU_UTIL_AVG: Final = "gpu_util_avg"
GPU_UTIL_MAX: Final = "gpu_util_max"
GPU_MEMORY_PEAK_BYTES: Final = "gpu_memory_peak_bytes"
GPU_POWER_AVG_WATTS: Final = "gpu_power_avg_watts"
GPU_ENERGY_JOULES: Final = "gpu_energy_joules"
SESSION: Final = "session_id"
USER: Final = "user_id"
TAGS: Final = "tags"
ATTRIBUTES: Final = "attributes"
RESOURCE_ATTRIBUTES: Final = "resource_attributes"
EVENTS: Final = "events"

# Keys of the objects in the `events` column: a JSON array with one object per span event.
EVENT_NAME: Final = "name"
EVENT_TIME_UNIX_NANO: Final = "time_unix_nano"
EVENT_ATTRIBUTES: Final = "attributes"  # the event's attributes as JSON values

# In storage order. The collector's schema (migrations) and the normaliser follow this tuple.
CANONICAL_COLUMNS: Final[tuple[str, ...]] = (
    PROJECT_ID, TRACE_ID, SPAN_ID, PARENT_SPAN_ID, NAME, KIND, SERVICE,
    START_TIME, END_TIME, DURATION_MS, TIME_TO_FIRST_TOKEN_MS,
    STATUS_CODE, STATUS_MESSAGE, ERROR_TYPE_COLUMN, FINISH_REASONS,
    PROVIDER, OPERATION, REQUEST_MODEL, RESPONSE_MODEL, IS_STREAMING, REQUEST_PARAMS,
    INPUT_TOKENS, OUTPUT_TOKENS, CACHED_INPUT_TOKENS, REASONING_TOKENS, TOTAL_TOKENS, TOKENS_ESTIMATED,
    COST_USD, COST_SOURCE,
    INPUT_TEXT, OUTPUT_TEXT,
    GPU_UTIL_AVG, GPU_UTIL_MAX, GPU_MEMORY_PEAK_BYTES, GPU_POWER_AVG_WATTS, GPU_ENERGY_JOULES,
    SESSION, USER, TAGS,
    ATTRIBUTES, RESOURCE_ATTRIBUTES, EVENTS,
)  # fmt: skip
