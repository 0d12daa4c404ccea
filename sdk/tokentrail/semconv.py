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
SERVICE_VERSION: Final = "service.version"  # resource attribute: the release of the service
SESSION_ID: Final = "session.id"
USER_ID: Final = "user.id"
ERROR_TYPE: Final = "error.type"
EXCEPTION_EVENT: Final = "exception"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
EXCEPTION_ESCAPED: Final = "exception.escaped"

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
TT_GPU_DEVICES: Final = "tokentrail.gpu.devices"  # NVML indices of the GPUs the span's figures cover

# --- GPU metrics the SDK's sampler sends over OTLP (gauges, one point per device) ----------------
METRIC_GPU_UTILIZATION: Final = "tokentrail.gpu.utilization"  # %
METRIC_GPU_MEMORY_USED: Final = "tokentrail.gpu.memory.used"  # By
METRIC_GPU_POWER: Final = "tokentrail.gpu.power"  # W
METRIC_GPU_ENERGY: Final = "tokentrail.gpu.energy"  # J, the device's counter since the driver loaded
GPU_INDEX: Final = "gpu.index"  # metric point attributes naming the device
GPU_UUID: Final = "gpu.uuid"
GPU_NAME: Final = "gpu.name"

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
CACHED_INPUT_TOKENS: Final = "cached_input_tokens"  # cache reads, part of input_tokens
CACHE_WRITE_INPUT_TOKENS: Final = "cache_write_input_tokens"  # cache writes, part of input_tokens
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
    INPUT_TOKENS, OUTPUT_TOKENS, CACHED_INPUT_TOKENS, CACHE_WRITE_INPUT_TOKENS, REASONING_TOKENS, TOTAL_TOKENS,
    TOKENS_ESTIMATED,
    COST_USD, COST_SOURCE,
    INPUT_TEXT, OUTPUT_TEXT,
    GPU_UTIL_AVG, GPU_UTIL_MAX, GPU_MEMORY_PEAK_BYTES, GPU_POWER_AVG_WATTS, GPU_ENERGY_JOULES,
    SESSION, USER, TAGS,
    ATTRIBUTES, RESOURCE_ATTRIBUTES, EVENTS,
)  # fmt: skip

# === Other instrumentations' dialects: the keys the collector reads besides its own ============
# Added for the collector's normaliser; each group is one convention, named as its authors spell it.

# --- OpenTelemetry GenAI: events (span events or log records) and a few more names ------------
GEN_AI_SYSTEM_MESSAGE_EVENT: Final = "gen_ai.system.message"
GEN_AI_USER_MESSAGE_EVENT: Final = "gen_ai.user.message"
GEN_AI_ASSISTANT_MESSAGE_EVENT: Final = "gen_ai.assistant.message"
GEN_AI_TOOL_MESSAGE_EVENT: Final = "gen_ai.tool.message"
GEN_AI_CHOICE_EVENT: Final = "gen_ai.choice"
GEN_AI_OPERATION_DETAILS_EVENT: Final = "gen_ai.client.inference.operation.details"
GEN_AI_CONTENT_PROMPT_EVENT: Final = "gen_ai.content.prompt"  # older events, attribute gen_ai.prompt
GEN_AI_CONTENT_COMPLETION_EVENT: Final = "gen_ai.content.completion"  # attribute gen_ai.completion
GEN_AI_EVENT_PREFIX: Final = "gen_ai."  # log records named so carry GenAI content
GEN_AI_EVENT_CONTENT: Final = "gen_ai.event.content"  # an event's body as JSON, where only attributes exist
EVENT_NAME_ATTRIBUTE: Final = "event.name"  # a log record's event name, before LogRecord.event_name
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"  # seconds
# Keys of GenAI message objects (gen_ai.input.messages items, event bodies).
MESSAGE_ROLE: Final = "role"
MESSAGE_PARTS: Final = "parts"
MESSAGE_CONTENT: Final = "content"
MESSAGE_FINISH_REASON: Final = "finish_reason"
MESSAGE_TOOL_CALLS: Final = "tool_calls"
MESSAGE_PART_TYPE: Final = "type"

# --- OpenInference (Arize Phoenix) ----------------------------------------------------------------
OI_SPAN_KIND: Final = "openinference.span.kind"
OI_INPUT_VALUE: Final = "input.value"
OI_OUTPUT_VALUE: Final = "output.value"
OI_LLM_MODEL_NAME: Final = "llm.model_name"
OI_LLM_REQUEST_MODEL_NAME: Final = "llm.request.model_name"
OI_LLM_RESPONSE_MODEL_NAME: Final = "llm.response.model_name"
OI_LLM_PROVIDER: Final = "llm.provider"
OI_LLM_SYSTEM: Final = "llm.system"
OI_LLM_INVOCATION_PARAMETERS: Final = "llm.invocation_parameters"
OI_LLM_INPUT_MESSAGES_PREFIX: Final = "llm.input_messages."
OI_LLM_OUTPUT_MESSAGES_PREFIX: Final = "llm.output_messages."
OI_LLM_TOKEN_COUNT_PROMPT: Final = "llm.token_count.prompt"
OI_LLM_TOKEN_COUNT_COMPLETION: Final = "llm.token_count.completion"
OI_LLM_TOKEN_COUNT_TOTAL: Final = "llm.token_count.total"
OI_LLM_TOKEN_COUNT_CACHE_READ: Final = "llm.token_count.prompt_details.cache_read"
OI_LLM_TOKEN_COUNT_CACHE_WRITE: Final = "llm.token_count.prompt_details.cache_write"
OI_LLM_TOKEN_COUNT_REASONING: Final = "llm.token_count.completion_details.reasoning"
OI_LLM_FINISH_REASON: Final = "llm.finish_reason"
OI_LLM_COST_TOTAL: Final = "llm.cost.total"
OI_EMBEDDING_MODEL_NAME: Final = "embedding.model_name"
OI_TAG_TAGS: Final = "tag.tags"
OI_METADATA: Final = "metadata"
OI_FIRST_TOKEN_EVENT: Final = "First Token Stream Event"
# Inside a numbered llm.*_messages.N. entry (dots split the nesting).
OI_MESSAGE: Final = "message"
OI_MESSAGE_CONTENTS: Final = "contents"
OI_MESSAGE_CONTENT: Final = "message_content"
OI_TOOL_CALL: Final = "tool_call"

# --- OpenLLMetry (Traceloop) ----------------------------------------------------------------------
TRACELOOP_SPAN_KIND: Final = "traceloop.span.kind"
TRACELOOP_ENTITY_INPUT: Final = "traceloop.entity.input"
TRACELOOP_ENTITY_OUTPUT: Final = "traceloop.entity.output"
TRACELOOP_SESSION_ID: Final = "traceloop.association.properties.session_id"
TRACELOOP_USER_ID: Final = "traceloop.association.properties.user_id"
LLM_REQUEST_TYPE: Final = "llm.request.type"
LLM_IS_STREAMING: Final = "llm.is_streaming"
LLM_USAGE_TOTAL_TOKENS: Final = "llm.usage.total_tokens"
# The earliest releases (before the `gen_ai.usage.prompt_tokens` rename, spring 2024) sent these.
LLM_USAGE_PROMPT_TOKENS: Final = "llm.usage.prompt_tokens"
LLM_USAGE_COMPLETION_TOKENS: Final = "llm.usage.completion_tokens"
LLM_USAGE_REASONING_TOKENS: Final = "llm.usage.reasoning_tokens"
GEN_AI_IS_STREAMING: Final = "gen_ai.is_streaming"
# OpenLLMetry's first releases (2023): llm.vendor, llm.request.model, llm.prompts.N.*, llm.completions.N.*
LLM_VENDOR: Final = "llm.vendor"
LLM_REQUEST_MODEL: Final = "llm.request.model"
LLM_RESPONSE_MODEL: Final = "llm.response.model"
LLM_PROMPTS_PREFIX: Final = "llm.prompts."
LLM_COMPLETIONS_PREFIX: Final = "llm.completions."
GEN_AI_PROMPT_PREFIX: Final = "gen_ai.prompt."  # gen_ai.prompt.N.role / .content / .tool_calls.M.*
GEN_AI_COMPLETION_PREFIX: Final = "gen_ai.completion."  # gen_ai.completion.N.role / .content / .finish_reason
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD: Final = "gen_ai.usage.cache_read_input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD: Final = "gen_ai.usage.cache_creation_input_tokens"
GEN_AI_USAGE_REASONING_TOKENS_OLD: Final = "gen_ai.usage.reasoning_tokens"

# --- OpenLIT ----------------------------------------------------------------------------------------
OPENLIT_USAGE_COST: Final = "gen_ai.usage.cost"  # USD
OPENLIT_TIME_TO_FIRST_TOKEN: Final = "gen_ai.server.time_to_first_token"  # seconds
OPENLIT_REQUEST_IS_STREAM: Final = "gen_ai.request.is_stream"  # older OpenLIT releases

# --- Langfuse (SDK v3 and later, OpenTelemetry based) ---------------------------------------------
LANGFUSE_OBSERVATION_TYPE: Final = "langfuse.observation.type"
LANGFUSE_OBSERVATION_INPUT: Final = "langfuse.observation.input"
LANGFUSE_OBSERVATION_OUTPUT: Final = "langfuse.observation.output"
LANGFUSE_OBSERVATION_MODEL: Final = "langfuse.observation.model.name"
LANGFUSE_OBSERVATION_MODEL_PARAMETERS: Final = "langfuse.observation.model.parameters"
LANGFUSE_OBSERVATION_USAGE_DETAILS: Final = "langfuse.observation.usage_details"
LANGFUSE_OBSERVATION_COST_DETAILS: Final = "langfuse.observation.cost_details"
LANGFUSE_OBSERVATION_COMPLETION_START_TIME: Final = "langfuse.observation.completion_start_time"
LANGFUSE_OBSERVATION_FINISH_REASON: Final = "langfuse.observation.metadata.finish_reason"
LANGFUSE_SESSION_ID: Final = "langfuse.session.id"
LANGFUSE_USER_ID: Final = "langfuse.user.id"
LANGFUSE_TRACE_TAGS: Final = "langfuse.trace.tags"

# --- The span content table: GenAI log records kept per span (collector migration 0003) ----------
CONTENT_TIME_UNIX_NANO: Final = "time_unix_nano"
CONTENT_EVENT_NAME: Final = "event_name"
CONTENT_ROLE: Final = "role"
CONTENT: Final = "content"  # JSON object: {"input": [messages], "output": [messages]} or {"body": ...}
CONTENT_INPUT: Final = "input"
CONTENT_OUTPUT: Final = "output"
CONTENT_BODY: Final = "body"
SPAN_CONTENT_COLUMNS: Final[tuple[str, ...]] = (
    PROJECT_ID, TRACE_ID, SPAN_ID, CONTENT_TIME_UNIX_NANO, CONTENT_EVENT_NAME, CONTENT_ROLE, CONTENT, ATTRIBUTES,
)  # fmt: skip

# --- The GPU metrics table: OTLP metric points, the SDK's GPU gauges first (collector migration 0005)
HOST_NAME: Final = "host.name"  # resource attribute naming the machine
METRIC_HOST: Final = "host"
METRIC_DEVICE_INDEX: Final = "device_index"
METRIC_DEVICE_UUID: Final = "device_uuid"
METRIC_DEVICE_NAME: Final = "device_name"
METRIC_NAME: Final = "metric"
METRIC_UNIT: Final = "unit"
METRIC_TIME_UNIX_NANO: Final = "time_unix_nano"
METRIC_VALUE: Final = "value"
NO_DEVICE_INDEX: Final = -1  # device_index of a point that names no GPU
GPU_METRIC_COLUMNS: Final[tuple[str, ...]] = (
    PROJECT_ID, SERVICE, METRIC_HOST, METRIC_DEVICE_INDEX, METRIC_DEVICE_UUID, METRIC_DEVICE_NAME,
    METRIC_NAME, METRIC_UNIT, METRIC_TIME_UNIX_NANO, METRIC_VALUE, ATTRIBUTES,
)  # fmt: skip

# === Auto-instrumentation of LLM client libraries (tokentrail.instrumentation) ==================

# --- More OpenTelemetry names the instrumentors write -------------------------------------------
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"


class GenAiProvider(str, Enum):
    """Values of `gen_ai.provider.name` the instrumentors write (OpenTelemetry's spellings)."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"


class MessagePartType(str, Enum):
    """`type` of a part in a GenAI message (`gen_ai.input.messages`, `gen_ai.output.messages`)."""

    TEXT = "text"
    TOOL_CALL = "tool_call"
    TOOL_CALL_RESPONSE = "tool_call_response"
    REASONING = "reasoning"
    URI = "uri"


# Keys inside GenAI message parts and tool definitions (besides MESSAGE_* above).
MESSAGE_PART_ID: Final = "id"  # a tool call's id, in tool_call and tool_call_response parts
MESSAGE_PART_NAME: Final = "name"
MESSAGE_PART_ARGUMENTS: Final = "arguments"
MESSAGE_PART_RESPONSE: Final = "response"
MESSAGE_PART_URI: Final = "uri"
MESSAGE_PART_MODALITY: Final = "modality"
TOOL_DEFINITION_TYPE: Final = "type"
TOOL_DEFINITION_NAME: Final = "name"
TOOL_DEFINITION_DESCRIPTION: Final = "description"
TOOL_DEFINITION_PARAMETERS: Final = "parameters"

# === Scores: feedback and evaluations on traces and spans (collector migration 0007) ============


class ScoreSource(str, Enum):
    """Who gave a score."""

    USER = "user"  # the application's end user (thumbs up/down, stars)
    HUMAN = "human"  # a reviewer or annotator
    MODEL = "model"  # an LLM judge or another model
    RULE = "rule"  # a deterministic check (regex, schema validation, ...)


class ScoreDataType(str, Enum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


# Keys of a score as sent to `POST /api/scores` and returned by `GET /api/scores` (besides
# TRACE_ID and SPAN_ID; SPAN_ID is "" for a score on a whole trace).
SCORE_ID: Final = "score_id"
SCORE_NAME: Final = "name"
SCORE_VALUE: Final = "value"  # number, bool or str as given; stored as numeric value + label
SCORE_DATA_TYPE: Final = "data_type"
SCORE_COMMENT: Final = "comment"
SCORE_SOURCE: Final = "source"
SCORE_TIMESTAMP: Final = "timestamp"  # RFC 3339; when the score was given
# Stored columns of the scores table beyond the keys above.
SCORE_NUMERIC_VALUE: Final = "numeric_value"  # numbers, booleans as 1/0; NULL for categorical
SCORE_LABEL: Final = "label"  # categorical value, "true"/"false" for booleans, "" for numbers
SCORE_ROW_VERSION: Final = "row_version"  # newest write of a score id wins (upsert)
SCORE_COLUMNS: Final[tuple[str, ...]] = (
    PROJECT_ID, SCORE_ID, TRACE_ID, SPAN_ID, SCORE_NAME, SCORE_DATA_TYPE, SCORE_NUMERIC_VALUE,
    SCORE_LABEL, SCORE_COMMENT, SCORE_SOURCE, SCORE_TIMESTAMP, SCORE_ROW_VERSION,
)  # fmt: skip

# === Drift reports: the fields a window can be defined by (collector migration 0006) ============
# The prompt version a span was made with; read in this order, the first non-empty one wins.
TT_PROMPT_VERSION: Final = "tokentrail.prompt.version"
OI_LLM_PROMPT_TEMPLATE_VERSION: Final = "llm.prompt_template.version"  # OpenInference
LANGFUSE_OBSERVATION_PROMPT_VERSION: Final = "langfuse.observation.prompt.version"
PROMPT_VERSION_KEYS: Final[tuple[str, ...]] = (
    TT_PROMPT_VERSION, OI_LLM_PROMPT_TEMPLATE_VERSION, LANGFUSE_OBSERVATION_PROMPT_VERSION,
)  # fmt: skip
