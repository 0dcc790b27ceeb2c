"""Uploads and media serving end to end: a real gateway, space-state replica and media service on one nats-server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_gateway.http.media import IMMUTABLE
from makefx_media.app import bootstrap as bootstrap_media
from makefx_media.settings import MediaSettings
from makefx_space_state import uploads
from makefx_space_state.app import bootstrap as bootstrap_space_state
from makefx_space_state.service import SpaceService
from makefx_space_state.settings import SpaceStateSettings

SIGNING_SECRET = "gateway-media-test-signing-secret-long-enough"
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def png(size: tuple[int, int] = (320, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def mp4(seconds: float = 1.6, size: tuple[int, int] = (160, 120), fps: int = 25) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        for index in range(int(seconds * fps)):
            image = Image.new("RGB", size, (index * 6 % 256, 80, 160))
            frame = av.VideoFrame.from_image(image)
            frame.pts = index
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return buffer.getvalue()


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x00" * 1024


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> None:
    """SQLite alone: these routes reach the database only through the membership check tested on both."""
    return None


@pytest.fixture
def nats_server(fresh_nats_server: NatsServer) -> NatsServer:
    """This test's own nats-server, so no other test's replica is in the ring."""
    return fresh_nats_server


async def serve(app: FastAPI, stack: contextlib.AsyncExitStack, sock: socket.socket | None = None) -> int:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock] if sock else None))

    async def stop() -> None:
        server.should_exit = True
        await task

    stack.push_async_callback(stop)
    async with asyncio.timeout(20):
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the server stopped during startup")
            await asyncio.sleep(0.01)
    return server.servers[0].sockets[0].getsockname()[1]


@dataclass
class Stack:
    state: SpaceService
    state_bus: Bus
    staged_dir: Path
    client: httpx.AsyncClient


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path, start_gateway, make_settings) -> AsyncIterator[Stack]:
    """A space-state replica, a media service (fs store) and then the gateway, all on this test's nats-server."""
    async with contextlib.AsyncExitStack() as servers:
        state_app = bootstrap_space_state(
            SpaceStateSettings(
                nats_url=nats_server.url,
                data_dir=tmp_path / "state",
                replica_id=f"state-{uuid.uuid4().hex[:8]}",
                log_format="text",
            )
        )
        await serve(state_app, servers)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        servers.callback(sock.close)
        media_settings = MediaSettings(
            nats_url=nats_server.url,
            data_dir=tmp_path / "media",
            storage_backend="fs",
            media_signing_secret=SIGNING_SECRET,
            http_host="127.0.0.1",
            http_port=sock.getsockname()[1],
            max_image_bytes=MAX_IMAGE_BYTES,
            log_format="text",
        )
        await serve(bootstrap_media(media_settings), servers, sock)
        gateway = await start_gateway(make_settings(max_image_bytes=MAX_IMAGE_BYTES))
        yield Stack(
            state=state_app.state.service.extra["service"],
            state_bus=state_app.state.service.bus,
            staged_dir=media_settings.storage_directory / "staging",
            client=gateway.client,
        )


@pytest.fixture
def client(stack: Stack) -> httpx.AsyncClient:
    return stack.client


async def upload(client: httpx.AsyncClient, space_id: str, headers: dict[str, str], data: bytes, **fields: Any):
    """Start an upload, PUT the bytes to its URL, complete it: the completion's response."""
    body = {"filename": "picture.png", "contentType": "image/png", "sizeBytes": len(data), **fields}
    started = await client.post(f"/api/spaces/{space_id}/uploads", json=body, headers=headers)
    assert started.status_code == 201, started.text
    ticket = started.json()
    put = await client.put(
        ticket["uploadUrl"], content=data, headers={**ticket["headers"], "Content-Type": body["contentType"]}
    )
    assert put.status_code == 200, put.text
    return await client.post(f"/api/spaces/{space_id}/uploads/{ticket['variantId']}/complete", headers=headers)


Uploaded = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def uploaded(client: httpx.AsyncClient) -> Uploaded:
    async def make(space_id: str, headers: dict[str, str], data: bytes | None = None, **fields: Any):
        done = await upload(client, space_id, headers, data if data is not None else png(), **fields)
        assert done.status_code == 200, done.text
        return done.json()["variant"]

    return make


def media_url(space_id: str, variant_id: str, what: str = "media") -> str:
    return f"/api/spaces/{space_id}/variants/{variant_id}/{what}"


# -- uploads ---------------------------------------------------------------------------


async def test_an_uploaded_png_is_completed_with_its_thumbnail_and_served_back_byte_for_byte(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded
):
    space = await shared_space()
    data = png()

    variant = await uploaded(space.id, space.editor.headers, data)

    assert variant["status"] == "completed"
    assert variant["media_mime_type"] == "image/png" and variant["thumb_key"]
    served = await client.get(media_url(space.id, variant["id"]), headers=space.viewer.headers)
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["cache-control"] == IMMUTABLE
    assert served.headers["etag"]
    thumb = await client.get(media_url(space.id, variant["id"], "thumb"), headers=space.viewer.headers)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"


async def test_a_disguised_upload_is_refused_and_its_variant_failed_naming_the_real_type(
    client: httpx.AsyncClient, shared_space
):
    space = await shared_space()

    done = await upload(client, space.id, space.editor.headers, ELF, filename="cute.png")

    assert done.status_code == 422, done.text
    message = done.json()["error"]["message"]
    assert "cute.png" in message
    assets = (await client.get(f"/api/spaces/{space.id}/assets", headers=space.owner.headers)).json()
    (variant,) = assets["variants"]
    assert variant["status"] == "failed" and variant["error_message"] == message


async def test_an_oversized_upload_is_refused_up_front_by_its_declared_size(client: httpx.AsyncClient, shared_space):
    space = await shared_space()

    started = await client.post(
        f"/api/spaces/{space.id}/uploads",
        json={"filename": "huge.png", "contentType": "image/png", "sizeBytes": MAX_IMAGE_BYTES + 1},
        headers=space.editor.headers,
    )

    assert started.status_code == 413
    assert started.json()["error"]["details"]["maxBytes"] == MAX_IMAGE_BYTES


async def test_bytes_larger_than_declared_and_than_the_limit_fail_the_upload(client: httpx.AsyncClient, shared_space):
    space = await shared_space()
    big = png((1400, 1400)) + bytes(MAX_IMAGE_BYTES)  # a real PNG padded past the limit

    done = await upload(client, space.id, space.editor.headers, big, sizeBytes=1000)

    assert done.status_code in (413, 422), done.text
    assets = (await client.get(f"/api/spaces/{space.id}/assets", headers=space.owner.headers)).json()
    assert assets["variants"][0]["status"] == "failed"


async def test_a_viewer_can_neither_start_nor_complete_an_upload(client: httpx.AsyncClient, shared_space):
    space = await shared_space()
    body = {"filename": "a.png", "contentType": "image/png", "sizeBytes": 10}

    started = await client.post(f"/api/spaces/{space.id}/uploads", json=body, headers=space.viewer.headers)
    editors = await client.post(f"/api/spaces/{space.id}/uploads", json=body, headers=space.editor.headers)
    completed = await client.post(
        f"/api/spaces/{space.id}/uploads/{editors.json()['variantId']}/complete", headers=space.viewer.headers
    )

    assert started.status_code == 403
    assert completed.status_code == 403


async def test_completing_an_upload_whose_bytes_never_came_is_refused(client: httpx.AsyncClient, shared_space):
    space = await shared_space()
    started = await client.post(
        f"/api/spaces/{space.id}/uploads",
        json={"filename": "late.png", "contentType": "image/png", "sizeBytes": 10},
        headers=space.editor.headers,
    )

    early = await client.post(
        f"/api/spaces/{space.id}/uploads/{started.json()['variantId']}/complete", headers=space.editor.headers
    )

    assert early.status_code == 409
    assets = (await client.get(f"/api/spaces/{space.id}/assets", headers=space.owner.headers)).json()
    assert assets["variants"][0]["status"] == "uploading"


async def test_an_upload_never_finished_is_failed_by_the_sweep_and_its_staged_bytes_deleted(
    client: httpx.AsyncClient, shared_space, stack: Stack
):
    space = await shared_space()
    data = png()
    started = await client.post(
        f"/api/spaces/{space.id}/uploads",
        json={"filename": "abandoned.png", "contentType": "image/png", "sizeBytes": len(data)},
        headers=space.editor.headers,
    )
    ticket = started.json()
    assert (await client.put(ticket["uploadUrl"], content=data, headers=ticket["headers"])).status_code == 200
    staged = stack.staged_dir / space.id / ticket["variantId"]
    assert staged.is_file()

    assert await uploads.sweep(stack.state, stack.state_bus, max_age_ms=-1) == 1

    assets = (await client.get(f"/api/spaces/{space.id}/assets", headers=space.owner.headers)).json()
    assert assets["variants"][0]["status"] == "failed"
    assert assets["variants"][0]["error_message"] == "The upload was never finished."
    assert not staged.exists()


# -- serving ---------------------------------------------------------------------------


async def test_range_requests_answer_206_with_the_slice_suffixes_and_open_ends(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded
):
    space = await shared_space()
    data = png()
    variant = await uploaded(space.id, space.editor.headers, data)
    url = media_url(space.id, variant["id"])
    size = len(data)

    first = await client.get(url, headers={**space.viewer.headers, "Range": "bytes=0-99"})
    tail = await client.get(url, headers={**space.viewer.headers, "Range": "bytes=-10"})
    rest = await client.get(url, headers={**space.viewer.headers, "Range": f"bytes={size - 5}-"})
    past_end = await client.get(url, headers={**space.viewer.headers, "Range": f"bytes=0-{size + 1000}"})

    assert first.status_code == 206 and first.content == data[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["content-length"] == "100"
    assert first.headers["cache-control"] == IMMUTABLE
    assert tail.status_code == 206 and tail.content == data[-10:]
    assert rest.status_code == 206 and rest.content == data[-5:]
    assert past_end.status_code == 206 and past_end.content == data


async def test_a_range_beyond_the_end_answers_416_with_the_size(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded
):
    space = await shared_space()
    data = png()
    variant = await uploaded(space.id, space.editor.headers, data)

    response = await client.get(
        media_url(space.id, variant["id"]), headers={**space.owner.headers, "Range": f"bytes={len(data)}-"}
    )

    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(data)}"


async def test_if_range_with_a_stale_etag_sends_the_whole_object(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded
):
    space = await shared_space()
    data = png()
    variant = await uploaded(space.id, space.editor.headers, data)
    url = media_url(space.id, variant["id"])
    etag = (await client.get(url, headers=space.owner.headers)).headers["etag"]

    stale = await client.get(url, headers={**space.owner.headers, "Range": "bytes=0-9", "If-Range": '"old"'})
    fresh = await client.get(url, headers={**space.owner.headers, "Range": "bytes=0-9", "If-Range": etag})

    assert stale.status_code == 200 and stale.content == data
    assert fresh.status_code == 206 and fresh.content == data[:10]


async def test_a_video_serves_its_poster_and_an_image_has_no_poster(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded
):
    space = await shared_space()
    video = await uploaded(space.id, space.editor.headers, mp4(), filename="clip.mp4", contentType="video/mp4")
    image = await uploaded(space.id, space.editor.headers)

    poster = await client.get(media_url(space.id, video["id"], "poster"), headers=space.viewer.headers)
    missing = await client.get(media_url(space.id, image["id"], "poster"), headers=space.viewer.headers)

    assert poster.status_code == 200 and poster.headers["content-type"] == "image/webp"
    assert missing.status_code == 404


async def test_media_needs_a_signed_in_member_and_hides_other_spaces_variants(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded, register
):
    space, other = await shared_space(), await shared_space()
    variant = await uploaded(space.id, space.editor.headers)
    stranger = await register("Stranger")

    anonymous = await client.get(media_url(space.id, variant["id"]))
    outsider = await client.get(media_url(space.id, variant["id"]), headers=stranger.headers)
    through_other_space = await client.get(media_url(other.id, variant["id"]), headers=other.owner.headers)

    assert anonymous.status_code == 401
    assert outsider.status_code == 404
    assert through_other_space.status_code == 404


async def test_legacy_images_serves_members_their_space_images(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded, register
):
    space = await shared_space()
    data = png()
    variant = await uploaded(space.id, space.editor.headers, data)
    stranger = await register("Stranger")

    served = await client.get(f"/api/images/{variant['image_key']}", headers=space.viewer.headers)
    hidden = await client.get(f"/api/images/{variant['image_key']}", headers=stranger.headers)

    assert served.status_code == 200 and served.content == data
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/images/images/%2e%2e/%2e%2e/state/secret.sqlite",
        "/api/images/images/..%2f..%2fsecret",
        "/api/images/images/a%5c..%5csecret",
        "/api/images/staging/space/variant",
        "/api/images/%2fetc/passwd",
        "/api/images/images//etc/passwd",
    ],
)
async def test_legacy_images_refuses_traversal_and_other_prefixes(client: httpx.AsyncClient, shared_space, path: str):
    space = await shared_space()

    response = await client.get(path, headers=space.owner.headers)

    assert response.status_code == 404, (path, response.text)
