"""A fake Anthropic Messages API: a real HTTP server speaking `POST /v1/messages` as Anthropic does.

A request with `"stream": true` is answered with server-sent events in the API's order
(`message_start`, `content_block_start`, `ping`, `content_block_delta` with `text_delta` or
`input_json_delta`, `content_block_stop`, `message_delta` with usage, `message_stop`);
without it, with the whole `Message` as JSON. Replies come from a script (the last one
repeats): a message, an error status with the API's error body (429 with `retry-after`,
529 `overloaded_error`, …) or a malformed body. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from makefx_testing.fakes import ScriptedFake
from makefx_testing.fakes import serving as serving  # re-exported: the tests serve this fake with it


@dataclass(frozen=True)
class ToolUse:
    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Said:
    """A successful answer: text streamed in `pieces`, then tool_use blocks."""

    pieces: tuple[str, ...] = ()
    tools: tuple[ToolUse, ...] = ()
    input_tokens: int = 120
    output_tokens: int = 30
    stop_reason: str = "end_turn"


@dataclass(frozen=True)
class Failure:
    status: int
    error_type: str
    message: str
    retry_after: int | None = None


@dataclass(frozen=True)
class Garbage:
    """A 200 whose body is not the API's: broken JSON (streamed or not)."""

    body: str = '{"id": "msg_broken", "content": [ {"type": "te'


@dataclass(frozen=True)
class BrokenOff:
    """A stream that starts (`200`, some text) and then sends an `error` event, as the API does when it
    overloads mid-answer."""

    error_type: str = "overloaded_error"
    message: str = "Overloaded"


Reply = Said | Failure | Garbage | BrokenOff


def said(*pieces: str, tools: tuple[ToolUse, ...] = (), **usage: Any) -> Said:
    stop = "tool_use" if tools else "end_turn"
    return Said(tuple(pieces), tools, stop_reason=usage.pop("stop_reason", stop), **usage)


def rate_limited(retry_after: int = 1) -> Failure:
    return Failure(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit.", retry_after)


def overloaded() -> Failure:
    return Failure(529, "overloaded_error", "Overloaded")


def invalid_request(message: str) -> Failure:
    return Failure(400, "invalid_request_error", message)


@dataclass
class Recorded:
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeAnthropic(ScriptedFake[Reply, Recorded]):
    api_key: str = "sk-ant-test"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/messages")
        async def messages(request: Request) -> Response:
            body = await request.json()
            self.requests.append(Recorded(dict(request.headers), body))
            if self.api_key not in (request.headers.get("x-api-key"), _bearer(request.headers.get("authorization"))):
                return _error(Failure(401, "authentication_error", "invalid x-api-key"))
            reply = self.next_reply()
            match reply:
                case Failure():
                    return _error(reply)
                case Garbage():
                    if body.get("stream"):
                        broken = f"event: message_start\ndata: {reply.body}\n\n"
                        return Response(broken, media_type="text/event-stream")
                    return Response(reply.body, media_type="application/json")
                case BrokenOff():
                    started = list(_event_list(said("Half an ans"), body["model"]))[:4]
                    error = {"type": "error", "error": {"type": reply.error_type, "message": reply.message}}
                    return Response(b"".join(started) + _sse("error", error), media_type="text/event-stream")
                case Said():
                    if body.get("stream"):
                        return StreamingResponse(_events(reply, body["model"]), media_type="text/event-stream")
                    return JSONResponse(_message(reply, body["model"]), headers={"request-id": "req_fake"})

        return app


def _bearer(header: str | None) -> str | None:
    return header.removeprefix("Bearer ") if header and header.startswith("Bearer ") else None


def _error(failure: Failure) -> JSONResponse:
    headers = {"request-id": "req_fake"}
    if failure.retry_after is not None:
        headers["retry-after"] = str(failure.retry_after)
    body = {"type": "error", "error": {"type": failure.error_type, "message": failure.message}}
    return JSONResponse(body, status_code=failure.status, headers=headers)


def _message(reply: Said, model: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.pieces:
        content.append({"type": "text", "text": "".join(reply.pieces)})
    content += [{"type": "tool_use", "id": t.id, "name": t.name, "input": t.input} for t in reply.tools]
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def _events(reply: Said, model: str) -> AsyncIterator[bytes]:
    for chunk in _event_list(reply, model):
        yield chunk
        await asyncio.sleep(0)


def _event_list(reply: Said, model: str) -> Iterator[bytes]:
    start = _message(reply, model) | {"content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": reply.input_tokens, "output_tokens": 1}
    yield _sse("message_start", {"type": "message_start", "message": start})
    index = 0
    if reply.pieces:
        block = {"type": "text", "text": ""}
        yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
        yield _sse("ping", {"type": "ping"})
        for piece in reply.pieces:
            delta = {"type": "text_delta", "text": piece}
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    for tool in reply.tools:
        block = {"type": "tool_use", "id": tool.id, "name": tool.name, "input": {}}
        yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
        encoded = json.dumps(tool.input)
        for cut in range(0, len(encoded), 17):
            delta = {"type": "input_json_delta", "partial_json": encoded[cut : cut + 17]}
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    delta = {"stop_reason": reply.stop_reason, "stop_sequence": None}
    usage = {"output_tokens": reply.output_tokens}
    yield _sse("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
    yield _sse("message_stop", {"type": "message_stop"})
