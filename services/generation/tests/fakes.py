"""Fake provider HTTP servers (real HTTP on a free port): they answer from a script and record every request."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""
    abandoned: bool = False
    """The client hung up before the (delayed) answer was ready."""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    delay: float = 0.0
    """Seconds to wait before answering (a slow provider); a client that hangs up meanwhile is recorded."""


@dataclass
class FakeServer:
    """Answers each request with the next scripted reply (the last one repeats); records them all."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests.clear()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "PUT"])
        async def anything(path: str, request: Request) -> Response:
            recorded = Recorded(
                request.method, "/" + path, dict(request.headers), await request.body(), request.url.query
            )
            self.requests.append(recorded)
            reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
            waited = 0.0
            while waited < reply.delay:
                if await request.is_disconnected():
                    recorded.abandoned = True
                    return Response(status_code=499)
                await asyncio.sleep(0.05)
                waited += 0.05
            content = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            return Response(content, status_code=reply.status, media_type=reply.content_type)

        return app


@contextlib.asynccontextmanager
async def serving(fake: FakeServer) -> AsyncIterator[FakeServer]:
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=0, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.01)
        fake.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        yield fake
    finally:
        server.should_exit = True
        await task


def png_bytes(width: int = 64, height: int = 48) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


def gemini_image(data: bytes, mime_type: str = "image/png") -> Reply:
    return Reply(
        body={
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"inlineData": {"mimeType": mime_type, "data": base64.b64encode(data).decode()}}],
                    },
                    "finishReason": "STOP",
                }
            ],
            "modelVersion": "gemini-3.1-flash-image",
            "usageMetadata": {"totalTokenCount": 1290},
        }
    )


def gemini_error(status: int, message: str, code: str) -> Reply:
    return Reply(status=status, body={"error": {"code": status, "message": message, "status": code}})


def gemini_safety_block() -> Reply:
    return Reply(
        body={
            "promptFeedback": {"blockReason": "SAFETY", "blockReasonMessage": "The prompt was blocked for safety."},
            "modelVersion": "gemini-3.1-flash-image",
        }
    )
