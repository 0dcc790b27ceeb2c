"""Uploads and media serving end to end: a real gateway, space-state replica and media service on one nats-server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import socket
import struct
import uuid
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_contracts.events import VariantCreated
from makefx_contracts.rows import MediaKind, VariantRow, VariantStatus
from makefx_gateway.http.media import IMMUTABLE, upload_body_limit
from makefx_gateway.settings import GatewaySettings
from makefx_media.app import bootstrap as bootstrap_media
from makefx_media.settings import MediaSettings
from makefx_space_state import uploads
from makefx_space_state.app import bootstrap as bootstrap_space_state
from makefx_space_state.service import SpaceService
from makefx_space_state.settings import SpaceStateSettings
from makefx_storage.fs import FsStore
from makefx_testing.app_server import AppServer
from makefx_testing.media_files import mp4_bytes

SIGNING_SECRET = "gateway-media-test-signing-secret-long-enough"
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def png(size: tuple[int, int] = (320, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def mp4(seconds: float = 1.6) -> bytes:
    return mp4_bytes(seconds, size=(160, 120), fps=25)


def noisy_png(size: tuple[int, int] = (256, 256)) -> bytes:
    """A PNG that does not compress: larger than the JSON API's 64 KiB body cap."""
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        tone = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in tone))
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


@dataclass
class Stack:
    state: SpaceService
    state_bus: Bus
    staged_dir: Path
    client: httpx.AsyncClient
    gateway_settings: GatewaySettings

    @property
    def store_dir(self) -> Path:
        return self.staged_dir.parent

    def objects(self) -> FsStore:
        """The media service's object store, as the service itself opens it."""
        return FsStore(self.store_dir)


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
        await servers.enter_async_context(AppServer(state_app, lifespan="on"))
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
        await servers.enter_async_context(AppServer(bootstrap_media(media_settings), lifespan="on", listen_on=sock))
        gateway = await start_gateway(make_settings(max_image_bytes=MAX_IMAGE_BYTES))
        yield Stack(
            state=state_app.state.service.extra["service"],
            state_bus=state_app.state.service.bus,
            staged_dir=media_settings.storage_directory / "staging",
            client=gateway.client,
            gateway_settings=gateway.settings,
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
    assert "cute.png" in message and "executable" in message.lower()
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


async def test_malformed_and_multiple_ranges_are_ignored_and_a_suffix_past_the_start_is_the_whole_object(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded
):
    space = await shared_space()
    data = png()
    variant = await uploaded(space.id, space.editor.headers, data)
    url = media_url(space.id, variant["id"])

    async def get(range_header: str) -> httpx.Response:
        return await client.get(url, headers={**space.viewer.headers, "Range": range_header})

    for ignored in ("bytes=9-2", "bytes=0-1,4-5", "items=0-1", "bytes=abc", "bytes=-"):
        whole = await get(ignored)
        assert whole.status_code == 200 and whole.content == data, ignored
        assert "content-range" not in whole.headers, ignored
    longer_suffix = await get(f"bytes=-{len(data) * 2}")
    empty_suffix = await get("bytes=-0")
    last_byte = await get(f"bytes={len(data) - 1}-{len(data) - 1}")

    assert longer_suffix.status_code == 206 and longer_suffix.content == data
    assert longer_suffix.headers["content-range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert empty_suffix.status_code == 416
    assert empty_suffix.headers["content-range"] == f"bytes */{len(data)}"
    assert last_byte.status_code == 206 and last_byte.content == data[-1:]


async def test_head_answers_the_headers_of_a_get_without_the_bytes(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded
):
    space = await shared_space()
    data = png()
    variant = await uploaded(space.id, space.editor.headers, data)
    url = media_url(space.id, variant["id"])

    whole = await client.head(url, headers=space.viewer.headers)
    part = await client.head(url, headers={**space.viewer.headers, "Range": "bytes=10-19"})

    assert whole.status_code == 200 and whole.content == b""
    assert whole.headers["content-length"] == str(len(data))
    assert whole.headers["content-type"] == "image/png" and whole.headers["etag"]
    assert whole.headers["cache-control"] == IMMUTABLE and whole.headers["accept-ranges"] == "bytes"
    assert part.status_code == 206 and part.headers["content-range"] == f"bytes 10-19/{len(data)}"


async def test_a_legacy_variant_without_a_media_key_is_served_from_its_image_key(
    client: httpx.AsyncClient, shared_space, uploaded: Uploaded, stack: Stack
):
    space = await shared_space()
    asset_id = (await uploaded(space.id, space.editor.headers))["asset_id"]
    legacy_id = uuid.uuid4().hex
    data = png((64, 48))
    image_key = f"images/{space.id}/{legacy_id}.png"
    path = stack.store_dir.joinpath(*image_key.split("/"))
    path.write_bytes(data)  # placed by hand, as an import of the original product's bucket would
    async with stack.state.spaces.use(space.id) as opened:
        seq = opened.store.last_seq + 1
    legacy = VariantRow(
        id=legacy_id,
        asset_id=asset_id,
        media_kind=MediaKind.IMAGE,
        status=VariantStatus.COMPLETED,
        image_key=image_key,
        recipe="{}",
        created_by="someone",
        created_at=1,
    )
    await stack.state.replay(space.id, [VariantCreated(space_id=space.id, seq=seq, at=1, variant=legacy)])

    served = await client.get(media_url(space.id, legacy_id), headers=space.viewer.headers)
    no_thumb = await client.get(media_url(space.id, legacy_id, "thumb"), headers=space.viewer.headers)

    assert served.status_code == 200 and served.content == data
    assert served.headers["cache-control"] == IMMUTABLE
    assert no_thumb.status_code == 404


async def test_with_redirects_on_a_member_gets_307_to_a_signed_url_and_others_get_no_url(
    shared_space, uploaded: Uploaded, start_gateway, stack: Stack, register
):
    space = await shared_space()
    data = png()
    variant = await uploaded(space.id, space.editor.headers, data)
    stranger = await register("Stranger")
    redirecting = await start_gateway(stack.gateway_settings.model_copy(update={"media_redirect": True}))
    url = media_url(space.id, variant["id"])

    moved = await redirecting.client.get(url, headers=space.viewer.headers)
    outsider = await redirecting.client.get(url, headers=stranger.headers)
    followed = await redirecting.client.get(
        url, headers={**space.viewer.headers, "Range": "bytes=0-15"}, follow_redirects=True
    )

    assert moved.status_code == 307
    assert "/objects/images/" in moved.headers["location"] and "signature=" in moved.headers["location"]
    assert moved.headers["cache-control"] == "private, no-store"
    assert outsider.status_code == 404 and "location" not in outsider.headers
    assert followed.status_code == 206 and followed.content == data[:16]


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


@pytest.mark.parametrize("key", ["styles/watercolor/preview.webp", "thumbs/legacy/abc123_thumb.webp"])
async def test_legacy_images_serves_style_and_thumb_keys_to_any_signed_in_user(
    stack: Stack, client: httpx.AsyncClient, register, key: str
):
    data = png((64, 64))
    store = stack.objects()
    await store.start()
    try:
        await store.put(key, data, content_type="image/webp")
    finally:
        await store.close()
    someone = await register("Someone")

    served = await client.get(f"/api/images/{key}", headers=someone.headers)
    anonymous = await client.get(f"/api/images/{key}")

    assert served.status_code == 200 and served.content == data
    assert served.headers["cache-control"] == IMMUTABLE
    assert anonymous.status_code == 401


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


# -- the one-step multipart upload ----------------------------------------------------------


async def upload_form(
    client: httpx.AsyncClient,
    space_id: str,
    headers: dict[str, str],
    data: bytes,
    filename: str = "picture.png",
    content_type: str = "image/png",
    **fields: str,
) -> httpx.Response:
    return await client.post(
        f"/api/spaces/{space_id}/upload",
        files={"file": (filename, data, content_type)},
        data=fields,
        headers=headers,
        timeout=60,
    )


async def variants_of(client: httpx.AsyncClient, space_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    return (await client.get(f"/api/spaces/{space_id}/assets", headers=headers)).json()["variants"]


async def test_the_one_step_upload_files_an_image_past_the_json_body_cap_under_a_new_asset(
    client: httpx.AsyncClient, shared_space
):
    space = await shared_space()
    data = noisy_png()
    assert len(data) > 64 * 1024

    response = await upload_form(
        client, space.id, space.editor.headers, data, "moon.png", "image/png", assetName="Moon", assetType="scene"
    )

    assert response.status_code == 201, response.text
    body = response.json()
    variant, asset = body["variant"], body["asset"]
    assert variant["status"] == "completed" and variant["media_kind"] == "image"
    assert variant["media_mime_type"] == "image/png" and variant["thumb_key"]
    assert (variant["media_width"], variant["media_height"]) == (256, 256)
    assert asset["name"] == "Moon" and asset["type"] == "scene" and variant["asset_id"] == asset["id"]
    served = await client.get(media_url(space.id, variant["id"]), headers=space.viewer.headers)
    assert served.status_code == 200 and served.content == data


async def test_the_one_step_upload_takes_audio_by_its_declared_type_and_measures_its_duration(
    client: httpx.AsyncClient, shared_space
):
    space = await shared_space()

    response = await upload_form(client, space.id, space.editor.headers, wav(0.5), "beep.wav", "audio/wav")

    assert response.status_code == 201, response.text
    variant = response.json()["variant"]
    assert variant["status"] == "completed" and variant["media_kind"] == "audio"
    assert variant["media_mime_type"] == "audio/wav"
    assert abs(variant["media_duration_ms"] - 500) <= 20
    assert variant["media_key"] == f"media/{space.id}/{variant['id']}.wav"


async def test_the_one_step_upload_files_a_video_with_its_poster_and_adds_variants_to_an_existing_asset(
    client: httpx.AsyncClient, shared_space
):
    space = await shared_space()
    first = await upload_form(
        client, space.id, space.editor.headers, mp4(), "clip.bin", "application/octet-stream", mediaKind="video"
    )
    assert first.status_code == 201, first.text
    asset_id = first.json()["asset"]["id"]

    second = await upload_form(
        client, space.id, space.owner.headers, mp4(seconds=1.2), "again.mp4", "video/mp4", assetId=asset_id
    )

    assert second.status_code == 201, second.text
    assert second.json()["asset"] is None
    variant = second.json()["variant"]
    assert variant["asset_id"] == asset_id and variant["status"] == "completed"
    assert variant["media_mime_type"] == "video/mp4" and (variant["media_width"], variant["media_height"]) == (160, 120)
    assert abs(variant["media_duration_ms"] - 1200) <= 100
    poster = await client.get(media_url(space.id, variant["id"], "poster"), headers=space.viewer.headers)
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/webp"


async def test_a_disguised_one_step_upload_is_refused_its_variant_failed_and_nothing_stored(
    client: httpx.AsyncClient, shared_space, stack: Stack
):
    space = await shared_space()

    response = await upload_form(client, space.id, space.editor.headers, ELF, "cute.png", "image/png")

    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert "cute.png" in message and "application/x-executable" in message
    (variant,) = await variants_of(client, space.id, space.owner.headers)
    assert variant["status"] == "failed" and variant["error_message"] == message
    assert variant["media_key"] is None and variant["image_key"] is None
    stored = [path for path in stack.store_dir.rglob("*") if path.is_file() and space.id in path.parts]
    assert stored == []


async def test_an_oversized_one_step_upload_is_refused_with_its_limit_before_any_placeholder(
    client: httpx.AsyncClient, shared_space
):
    space = await shared_space()
    big = png((1400, 1400)) + bytes(MAX_IMAGE_BYTES)

    response = await upload_form(client, space.id, space.editor.headers, big, "huge.png", "image/png")

    assert response.status_code == 413, response.text
    details = response.json()["error"]["details"]
    assert details["maxBytes"] == MAX_IMAGE_BYTES and details["mediaKind"] == "image"
    assert details["sizeBytes"] == len(big)
    assert await variants_of(client, space.id, space.owner.headers) == []


async def test_a_one_step_upload_over_the_routes_body_cap_is_refused_by_its_declared_length(
    client: httpx.AsyncClient, shared_space, stack: Stack
):
    space = await shared_space()
    limit = upload_body_limit(stack.gateway_settings)

    # The cap answers from the headers alone, so the declared body is never sent.
    reader, writer = await asyncio.open_connection(client.base_url.host, client.base_url.port)
    head = (
        f"POST /api/spaces/{space.id}/upload HTTP/1.1\r\nHost: gateway\r\n"
        f"Authorization: {space.editor.headers['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {limit + 1}\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    status_line, *header_lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    answer_headers = dict(line.split(": ", 1) for line in header_lines if line)
    content = await reader.readexactly(int(answer_headers["content-length"]))
    writer.close()
    response = httpx.Response(int(status_line.split(" ")[1]), headers=answer_headers, content=content)

    assert response.status_code == 413
    assert response.json()["error"]["details"]["maxBytes"] == limit


async def test_a_viewer_cannot_use_the_one_step_upload_and_a_non_member_does_not_find_the_space(
    client: httpx.AsyncClient, shared_space, register
):
    space = await shared_space()
    stranger = await register("Stranger")

    viewer = await upload_form(client, space.id, space.viewer.headers, png())
    outsider = await upload_form(client, space.id, stranger.headers, png())

    assert viewer.status_code == 403, viewer.text
    assert outsider.status_code == 404, outsider.text
    assert await variants_of(client, space.id, space.owner.headers) == []


async def test_a_one_step_upload_to_another_spaces_asset_is_not_found(client: httpx.AsyncClient, shared_space):
    space, other = await shared_space(), await shared_space()
    theirs = await upload_form(client, other.id, other.owner.headers, png())
    assert theirs.status_code == 201, theirs.text

    response = await upload_form(
        client, space.id, space.owner.headers, png(), assetId=theirs.json()["variant"]["asset_id"]
    )

    assert response.status_code == 404, response.text
    assert await variants_of(client, space.id, space.owner.headers) == []


async def test_a_one_step_upload_without_a_file_part_is_invalid(client: httpx.AsyncClient, shared_space):
    space = await shared_space()

    response = await client.post(
        f"/api/spaces/{space.id}/upload", data={"assetName": "Nothing"}, headers=space.editor.headers
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"] == {"field": "file"}
