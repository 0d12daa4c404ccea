"""A small fake LLM provider served over loopback HTTP, speaking the OpenAI and Anthropic APIs.

The demo and the tests call it with the real `openai` client (`base_url=<this>/v1`) and the real
`anthropic` client (`base_url=<this>`), so no API key and no network are needed. It serves OpenAI's
`/v1/chat/completions`, `/v1/responses` and `/v1/embeddings` and Anthropic's `/v1/messages`, each
streamed (server-sent events, as the providers send them) or not.

Answers are deterministic: the same prompt gives the same completion and the same usage. Tests
script what comes next with `FakeProvider.script(Reply(...))`: the text, tool calls, usage (cached
and reasoning tokens included), an HTTP error with the provider's error JSON, or a stream broken
mid-way by closing the connection. Run it alone with `python examples/fake_provider.py --port 8900`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import socket
import struct
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

ANSWERS = (
    "You can reset your password from the account page; a link is emailed to you.",
    "Invoices are issued on the first day of each month and can be downloaded as PDF.",
    "Our API is rate limited to 600 requests per minute per key; contact us for more.",
    "Exports to CSV and Parquet are available on every paid plan.",
    "Two-factor authentication works with any TOTP app or a hardware key.",
)
DEFAULT_EMBEDDING_DIMENSIONS = 8
MAX_RECORDED_REQUESTS = 1_000  # the latest requests are kept for tests; a long demo run stays small
# The error `type` each provider puts in its error JSON, by HTTP status.
OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded"}
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def count_tokens(text: str) -> int:
    """A rough, deterministic token count: about four characters a token, as OpenAI's rule of thumb."""
    return max(1, len(text) // 4)


def answer_for(prompt: str) -> str:
    """A canned answer picked by a hash of the prompt: stable, so captured fixtures stay valid."""
    digest = hashlib.sha256(prompt.encode()).digest()
    return ANSWERS[digest[0] % len(ANSWERS)]


def topical_answer_for(prompt: str) -> str:
    """The canned answer sharing most words with the prompt's last line (the question); by hash on a tie."""
    lines = prompt.strip().splitlines()
    question = {word.strip("?,.;:!").lower() for word in lines[-1].split()} if lines else set()
    overlap = [
        len(question & {w.strip(";,.").lower() for w in answer.split() if len(w) > 3}) for answer in ANSWERS
    ]
    tied = [answer for answer, score in zip(ANSWERS, overlap, strict=True) if score == max(overlap)]
    return tied[hashlib.sha256(prompt.encode()).digest()[0] % len(tied)]


# --- scripting ------------------------------------------------------------------------------------


# NamedTuples and plain classes, not dataclasses: the file is also loaded by path, without a
# `sys.modules` entry, where dataclasses cannot resolve their annotations.


class Usage(NamedTuple):
    """Token counts to report. `input_tokens` is the whole prompt, cached and cache-written parts included
    (Anthropic's own `input_tokens` is sent as the uncached rest)."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0


class ToolCall(NamedTuple):
    name: str
    arguments: dict[str, Any]
    id: str = "call_1"


class Reply(NamedTuple):
    """What the fake answers to the next request instead of its default (any route).

    `status` other than 200: the provider's error JSON with that status. `break_after`: a stream is
    cut after that many events by closing the connection (no final chunk).
    """

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    status: int = 200
    error_message: str = "scripted error"
    break_after: int | None = None


class RecordedRequest(NamedTuple):
    path: str
    body: dict[str, Any]


class ProviderState:
    """Per-server state: the scripted replies still to give and the requests seen."""

    def __init__(self, latency_s: float = 0.0, created: int | None = None, topical: bool = False) -> None:
        self.latency_s = latency_s
        self.answer = topical_answer_for if topical else answer_for
        self.created = created  # fixed `created` timestamps instead of the clock (tests compare chunks)
        self.replies: deque[Reply] = deque()
        self.requests: deque[RecordedRequest] = deque(maxlen=MAX_RECORDED_REQUESTS)
        self.lock = threading.Lock()


class _StreamBroken(Exception):
    """The scripted `break_after` was reached: the connection has been closed."""


# --- the handler ----------------------------------------------------------------------------------


class FakeProviderHandler(BaseHTTPRequestHandler):
    server_version = "fake-llm/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small SSE writes go out at once, not after a delayed ACK
    reply: Reply | None = None
    events_sent = 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's signature
        return

    # The handler also runs on plain servers (a test may build its own): no state there.
    @property
    def state(self) -> ProviderState | None:
        return getattr(self.server, "state", None)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self.send_json(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self.send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            return
        route = self.path.rstrip("/")
        self.reply, self.events_sent = self.next_reply(route, body), 0
        routes = {
            "/v1/chat/completions": self.chat_completion,
            "/v1/responses": self.openai_response,
            "/v1/embeddings": self.embeddings,
            "/v1/messages": self.anthropic_messages,
        }
        handle = routes.get(route)
        if handle is None:
            self.send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        if self.reply is not None and self.reply.status != 200:
            self.send_error_json(route, self.reply)
            return
        try:
            handle(body)
        except _StreamBroken:
            self.close_connection = True

    def next_reply(self, route: str, body: dict[str, Any]) -> Reply | None:
        state = self.state
        if state is None:
            return None
        with state.lock:
            state.requests.append(RecordedRequest(route, body))
            return state.replies.popleft() if state.replies else None

    def send_error_json(self, route: str, reply: Reply) -> None:
        if route == "/v1/messages":
            kind = ANTHROPIC_ERROR_TYPES.get(reply.status, "api_error")
            payload: dict[str, Any] = {
                "type": "error",
                "error": {"type": kind, "message": reply.error_message},
            }
        else:
            kind = OPENAI_ERROR_TYPES.get(reply.status, "server_error")
            payload = {"error": {"message": reply.error_message, "type": kind, "param": None, "code": kind}}
        self.send_json(reply.status, payload)

    def simulate_latency(self, prompt: str) -> None:
        delay = getattr(self.server, "latency_s", 0.0) or (self.state.latency_s if self.state else 0.0)
        if delay:
            time.sleep(delay * (1 + prompt.count("?")))

    def created(self) -> int:
        state = self.state
        return state.created if state is not None and state.created is not None else int(time.time())

    def answer_text(self, prompt: str) -> str:
        reply = self.reply
        if reply is not None and reply.text is not None:
            return reply.text
        if reply is not None and reply.tool_calls:
            return ""
        return self.state.answer(prompt) if self.state is not None else answer_for(prompt)

    # --- OpenAI: chat completions -----------------------------------------------------------------

    def chat_completion(self, body: dict[str, Any]) -> None:
        messages = body.get("messages") or []
        prompt = "\n".join(str(message.get("content", "")) for message in messages)
        model = str(body.get("model", "gpt-4o-mini"))
        text = self.answer_text(prompt)
        usage = self.chat_usage(prompt, text)
        self.simulate_latency(prompt)
        completion_id = "chatcmpl-" + hashlib.sha256(prompt.encode()).hexdigest()[:24]
        created = self.created()
        if body.get("stream"):
            self.stream_completion(completion_id, created, model, text, usage, body)
            return
        tool_calls = self.reply.tool_calls if self.reply is not None else ()
        message: dict[str, Any] = {"role": "assistant", "content": text or None if tool_calls else text}
        if tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in tool_calls
            ]
        self.send_json(
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model + "-2024-07-18" if model == "gpt-4o-mini" else model,
                "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason("stop")}],
                "usage": usage,
            },
        )

    def chat_usage(self, prompt: str, text: str) -> dict[str, Any]:
        scripted = self.reply.usage if self.reply is not None else None
        if scripted is None:
            return {
                "prompt_tokens": count_tokens(prompt),
                "completion_tokens": count_tokens(text),
                "total_tokens": count_tokens(prompt) + count_tokens(text),
            }
        return {
            "prompt_tokens": scripted.input_tokens,
            "completion_tokens": scripted.output_tokens,
            "total_tokens": scripted.input_tokens + scripted.output_tokens,
            "prompt_tokens_details": {"cached_tokens": scripted.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": scripted.reasoning_tokens, "audio_tokens": 0},
        }

    def finish_reason(self, default: str) -> str:
        reply = self.reply
        if reply is not None and reply.finish_reason:
            return reply.finish_reason
        if reply is not None and reply.tool_calls:
            return {"stop": "tool_calls", "end_turn": "tool_use"}.get(default, default)
        return default

    def stream_completion(
        self,
        completion_id: str,
        created: int,
        model: str,
        text: str,
        usage: dict[str, Any],
        body: dict[str, Any],
    ) -> None:
        self.start_event_stream()

        def event(choices: list[dict[str, Any]], usage_part: dict[str, Any] | None = None) -> None:
            chunk: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": choices,
            }
            if usage_part is not None:
                chunk["usage"] = usage_part
            self.send_event(b"data: " + json.dumps(chunk).encode() + b"\n\n")

        event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for word in text.split(" ") if text else ():
            event([{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}])
        for position, call in enumerate(self.reply.tool_calls if self.reply is not None else ()):
            start = {"index": position, "id": call.id, "type": "function"}
            event(
                [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]
                        },
                    }
                ]
            )
            for piece in _halves(json.dumps(call.arguments)):
                delta = {"tool_calls": [{"index": position, "function": {"arguments": piece}}]}
                event([{"index": 0, "delta": delta, "finish_reason": None}])
        event([{"index": 0, "delta": {}, "finish_reason": self.finish_reason("stop")}])
        if (body.get("stream_options") or {}).get("include_usage"):
            event([], usage)
        self.send_event(b"data: [DONE]\n\n")
        self.write_chunk(b"")

    # --- OpenAI: responses ------------------------------------------------------------------------

    def openai_response(self, body: dict[str, Any]) -> None:
        prompt = "\n".join(
            filter(None, [str(body.get("instructions") or ""), _response_input_text(body.get("input"))])
        )
        model = str(body.get("model", "gpt-4o-mini"))
        text = self.answer_text(prompt)
        self.simulate_latency(prompt)
        response_id = "resp_" + hashlib.sha256(prompt.encode()).hexdigest()[:24]
        output: list[dict[str, Any]] = []
        if text:
            content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
            output.append(
                {
                    "type": "message",
                    "id": "msg_" + response_id[5:],
                    "status": "completed",
                    "role": "assistant",
                    "content": content,
                }
            )
        for call in self.reply.tool_calls if self.reply is not None else ():
            output.append(
                {
                    "type": "function_call",
                    "id": "fc_" + call.id,
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": json.dumps(call.arguments),
                    "status": "completed",
                }
            )
        scripted = self.reply.usage if self.reply is not None else None
        usage = scripted or Usage(
            count_tokens(prompt), count_tokens(text or json.dumps([o.get("arguments") for o in output]))
        )
        response = {
            "id": response_id,
            "object": "response",
            "created_at": self.created(),
            "status": "completed",
            "model": model,
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "temperature": body.get("temperature"),
            "top_p": body.get("top_p"),
            "max_output_tokens": body.get("max_output_tokens"),
            "usage": {
                "input_tokens": usage.input_tokens,
                "input_tokens_details": {
                    "cached_tokens": usage.cached_tokens,
                    "cache_write_tokens": usage.cache_creation_tokens,
                },
                "output_tokens": usage.output_tokens,
                "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
                "total_tokens": usage.input_tokens + usage.output_tokens,
            },
        }
        if not body.get("stream"):
            self.send_json(200, response)
            return
        self.start_event_stream()
        sequence = iter(range(1_000_000))

        def event(kind: str, **data: Any) -> None:
            payload = {"type": kind, "sequence_number": next(sequence), **data}
            self.send_event(f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode())

        event("response.created", response={**response, "status": "in_progress", "output": [], "usage": None})
        for index, item in enumerate(output):
            if item["type"] == "message":
                event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "content": []},
                )
                part = {"type": "output_text", "text": "", "annotations": []}
                event(
                    "response.content_part.added",
                    output_index=index,
                    item_id=item["id"],
                    content_index=0,
                    part=part,
                )
                for word in _words(text):
                    event(
                        "response.output_text.delta",
                        output_index=index,
                        item_id=item["id"],
                        content_index=0,
                        delta=word,
                        logprobs=[],
                    )
                event(
                    "response.output_text.done",
                    output_index=index,
                    item_id=item["id"],
                    content_index=0,
                    text=text,
                    logprobs=[],
                )
                event(
                    "response.content_part.done",
                    output_index=index,
                    item_id=item["id"],
                    content_index=0,
                    part=item["content"][0],
                )
            else:
                event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "arguments": ""},
                )
                for piece in _halves(item["arguments"]):
                    event(
                        "response.function_call_arguments.delta",
                        output_index=index,
                        item_id=item["id"],
                        delta=piece,
                    )
                event(
                    "response.function_call_arguments.done",
                    output_index=index,
                    item_id=item["id"],
                    arguments=item["arguments"],
                )
            event("response.output_item.done", output_index=index, item=item)
        event("response.completed", response=response)
        self.write_chunk(b"")

    # --- OpenAI: embeddings -----------------------------------------------------------------------

    def embeddings(self, body: dict[str, Any]) -> None:
        raw = body.get("input")
        inputs = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else list(raw or [])
        texts = [item if isinstance(item, str) else " ".join(map(str, item)) for item in inputs]
        dimensions = int(body.get("dimensions") or DEFAULT_EMBEDDING_DIMENSIONS)
        data = []
        for index, text in enumerate(texts):
            digest = hashlib.sha256(text.encode()).digest()
            vector = [(digest[i % len(digest)] - 128) / 128 for i in range(dimensions)]
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        scripted = self.reply.usage if self.reply is not None else None
        tokens = scripted.input_tokens if scripted is not None else sum(count_tokens(text) for text in texts)
        self.send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": str(body.get("model", "text-embedding-3-small")),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    # --- Anthropic: messages ----------------------------------------------------------------------

    def anthropic_messages(self, body: dict[str, Any]) -> None:
        system = body.get("system") or ""
        if isinstance(system, list):
            system = "\n".join(block.get("text", "") for block in system)
        parts = [system] if system else []
        for message in body.get("messages") or []:
            content = message.get("content", "")
            if isinstance(content, list):
                content = "\n".join(
                    str(block.get("text", "")) for block in content if isinstance(block, dict)
                )
            parts.append(str(content))
        prompt = "\n".join(parts)
        text = self.answer_text(prompt)
        self.simulate_latency(prompt)
        tool_calls = self.reply.tool_calls if self.reply is not None else ()
        scripted = self.reply.usage if self.reply is not None else None
        usage_counts = scripted or Usage(count_tokens(prompt), count_tokens(text or "tool"))
        usage: dict[str, Any] = {
            "input_tokens": usage_counts.input_tokens
            - usage_counts.cached_tokens
            - usage_counts.cache_creation_tokens,
            "output_tokens": usage_counts.output_tokens,
            "cache_read_input_tokens": usage_counts.cached_tokens,
            "cache_creation_input_tokens": usage_counts.cache_creation_tokens,
        }
        if usage_counts.reasoning_tokens:
            usage["output_tokens_details"] = {"thinking_tokens": usage_counts.reasoning_tokens}
        message_id = "msg_" + hashlib.sha256(prompt.encode()).hexdigest()[:24]
        model = str(body.get("model", "claude-haiku-4-5"))
        stop_reason = self.finish_reason("end_turn")
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks += [
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            for call in tool_calls
        ]
        if not body.get("stream"):
            self.send_json(
                200,
                {
                    "id": message_id, "type": "message", "role": "assistant", "model": model,
                    "content": blocks, "stop_reason": stop_reason, "stop_sequence": None, "usage": usage,
                },
            )  # fmt: skip
            return
        self.start_event_stream()

        def event(kind: str, data: dict[str, Any]) -> None:
            self.send_event(f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode())

        start_usage = {**usage, "output_tokens": 1}
        start_usage.pop("output_tokens_details", None)
        event("message_start", {"message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})  # fmt: skip
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
                if index == 0:
                    event("ping", {})
                for piece in _words(text):
                    event(
                        "content_block_delta",
                        {"index": index, "delta": {"type": "text_delta", "text": piece}},
                    )
            else:
                event("content_block_start", {"index": index, "content_block": {**block, "input": {}}})
                for piece in _halves(json.dumps(block["input"])):
                    delta = {"type": "input_json_delta", "partial_json": piece}
                    event("content_block_delta", {"index": index, "delta": delta})
            event("content_block_stop", {"index": index})
        final_usage = {key: value for key, value in usage.items() if key != "input_tokens"}
        event(
            "message_delta",
            {"delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": final_usage},
        )
        event("message_stop", {})
        self.write_chunk(b"")

    # --- wire ---------------------------------------------------------------------------------------

    def start_event_stream(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def send_event(self, data: bytes) -> None:
        """One server-sent event, or the scripted break: the connection closed mid-stream."""
        reply = self.reply
        if reply is not None and reply.break_after is not None and self.events_sent >= reply.break_after:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            raise _StreamBroken
        self.events_sent += 1
        self.write_chunk(data)

    def write_chunk(self, data: bytes) -> None:
        # HTTP/1.1 keeps the connection open, so the stream is sent chunked.
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _words(text: str) -> list[str]:
    """`text` in word pieces that join back to it exactly."""
    words = text.split(" ")
    return [word + " " for word in words[:-1]] + [words[-1]] if text else []


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [text[:middle], text[middle:]] if middle else [text]


def _response_input_text(value: object) -> str:
    if isinstance(value, str):
        return value
    texts = []
    for item in value if isinstance(value, list) else ():
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "\n".join(texts)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping its keep-alive connection (or a stream it stopped reading) is normal here.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class FakeProvider:
    """The fake provider on a loopback port, in a background thread; a context manager.

    `script(*replies)` queues what the next requests get; `requests` lists what was received.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        created: int | None = None,
        topical: bool = False,
    ) -> None:
        self.server = _Server((host, port), FakeProviderHandler)
        self.server.latency_s = latency_s  # type: ignore[attr-defined]
        self.state = ProviderState(latency_s=latency_s, created=created, topical=topical)
        self.server.state = self.state  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-provider", daemon=True)

    @property
    def root_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """For the OpenAI client (`OpenAI(base_url=...)`)."""
        return self.root_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        """For the Anthropic client (`Anthropic(base_url=...)`), which adds `/v1/messages` itself."""
        return self.root_url

    def script(self, *replies: Reply) -> None:
        """Queue replies: each request takes the next one; once they are used up, the default answers."""
        with self.state.lock:
            self.state.replies.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def reset(self) -> None:
        with self.state.lock:
            self.state.replies.clear()
            self.state.requests.clear()

    def start(self) -> FakeProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds of simulated model latency")
    args = parser.parse_args()
    provider = FakeProvider(host=args.host, port=args.port, latency_s=args.latency)
    print(f"fake OpenAI- and Anthropic-compatible provider on {provider.root_url}", flush=True)
    try:
        provider.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
