"""Fake provider HTTP servers (real HTTP on a free port): they answer from a script and record every request.

The replies are written in each provider's wire format by the helpers below (`gemini_image`, …).
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response

from makefx_testing.fakes import ScriptedFake
from makefx_testing.fakes import serving as serving  # re-exported: the tests serve their fakes with it
from makefx_testing.media_files import png_bytes as png_bytes  # re-exported: the tests' provider replies carry it


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
class FakeServer(ScriptedFake[Reply, Recorded]):
    """Any provider's HTTP API: each request, on any path, gets the next scripted reply as it is written."""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "PUT"])
        async def anything(path: str, request: Request) -> Response:
            recorded = Recorded(
                request.method, "/" + path, dict(request.headers), await request.body(), request.url.query
            )
            self.requests.append(recorded)
            reply = self.next_reply()
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


VEO_OPERATION = "projects/p/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001/operations/op1"


def veo_started() -> Reply:
    """`:predictLongRunning`'s answer: the operation's name."""
    return Reply(body={"name": VEO_OPERATION})


def veo_running(percent: float | None = None) -> Reply:
    """`:fetchPredictOperation` of an operation still running, with its `progressPercent` when given."""
    metadata = {"metadata": {"progressPercent": percent}} if percent is not None else {}
    return Reply(body={"name": VEO_OPERATION, "done": False, **metadata})


def veo_finished(**response: Any) -> Reply:
    return Reply(body={"name": VEO_OPERATION, "done": True, "response": response})


def veo_video(data: bytes) -> Reply:
    return veo_finished(videos=[{"bytesBase64Encoded": base64.b64encode(data).decode(), "mimeType": "video/mp4"}])
