"""Media: serving a 100 MB video through the gateway with Range reads, and the thumbnail of a 4096x4096 PNG.

Everything runs in this process on one event loop per server (uvicorn), as in the tests: a
nats-server, a space-state replica, a media service on the fs store and the gateway. The
video is served as a client would read it: sequential 8 MiB `Range` reads through
`GET /api/spaces/{spaceId}/variants/{variantId}/media` (auth, membership, variant lookup, then
the gateway streams the media service's signed URL). The baseline is reading the same file
straight from disk in the same run; the target is at least 50% of it. The thumbnail is the
whole `IngestMedia` of a staged 4096x4096 PNG (sniff, decode, WebP thumbnail, move), beside
Pillow doing the decode and thumbnail alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from PIL import Image

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_contracts.events import VariantCreated
from makefx_contracts.media import IngestMedia, SignMedia, SignMethod
from makefx_contracts.rows import MediaKind, VariantRow, VariantStatus
from makefx_gateway.app import bootstrap as bootstrap_gateway
from makefx_gateway.settings import GatewaySettings
from makefx_media.app import bootstrap as bootstrap_media
from makefx_media.settings import MediaSettings
from makefx_settings import ServiceSettings
from makefx_space_state.app import bootstrap as bootstrap_space_state
from makefx_space_state.settings import SpaceStateSettings
from makefx_storage import open_store
from makefx_storage.keys import media_key, staging_key
from tests.bench.report import Latency, Table

MiB = 1024 * 1024
VIDEO_BYTES = 100 * MiB
CHUNK = 8 * MiB
ROUNDS = 3


async def _serve(app: FastAPI, stack: contextlib.AsyncExitStack, sock: socket.socket | None = None) -> int:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock] if sock else None))

    async def stop() -> None:
        server.should_exit = True
        await task

    stack.push_async_callback(stop)
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    return server.servers[0].sockets[0].getsockname()[1]


def _raw_read(path: Path) -> float:
    """Seconds to read the file in CHUNK pieces from disk (the page cache, after the first round)."""
    started = time.perf_counter()
    with path.open("rb", buffering=0) as file:
        while file.read(CHUNK):
            pass
    return time.perf_counter() - started


def _pillow_thumbnail(data: bytes) -> float:
    started = time.perf_counter()
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((512, 512))
        image.save(io.BytesIO(), format="WEBP", quality=80)
    return time.perf_counter() - started


async def run() -> None:
    table = Table("media: serving through the gateway, thumbnails")
    with tempfile.TemporaryDirectory(prefix="makefx-bench-media-") as tmp:
        root = Path(tmp)
        with NatsServer(root / "nats") as nats:
            async with contextlib.AsyncExitStack() as stack:
                common = {"nats_url": nats.url, "log_format": "text", "log_level": "WARNING"}
                state_app = bootstrap_space_state(
                    SpaceStateSettings(data_dir=root / "state", replica_id="state-bench", **common)
                )
                await _serve(state_app, stack)
                sock = socket.socket()
                sock.bind(("127.0.0.1", 0))
                stack.callback(sock.close)
                media_settings = MediaSettings(
                    data_dir=root / "media",
                    storage_backend="fs",
                    media_signing_secret="bench-media-signing-secret-long-enough!!",
                    http_host="127.0.0.1",
                    http_port=sock.getsockname()[1],
                    **common,
                )
                await _serve(bootstrap_media(media_settings), stack, sock)
                gateway_port = await _serve(
                    bootstrap_gateway(
                        GatewaySettings(
                            data_dir=root / "gateway",
                            jwt_secret="bench-gateway-jwt-secret-of-32-bytes-or-more",
                            access_cookie_secure=False,
                            argon2_time_cost=1,
                            argon2_memory_cost_kib=8,
                            argon2_parallelism=1,
                            **common,
                        )
                    ),
                    stack,
                )
                http = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", timeout=120)
                )
                bus = Bus(ServiceSettings(nats_url=nats.url, service_name="bench-media"))
                await bus.start()
                stack.push_async_callback(bus.stop)
                store = open_store(media_settings)
                await store.start()
                stack.push_async_callback(store.close)

                registered = await http.post(
                    "/api/auth/register",
                    json={"email": "bench@example.com", "password": "a long bench password", "name": "Bench"},
                )
                token = registered.json()["accessToken"]
                user_id = registered.json()["user"]["id"]
                headers = {"Authorization": f"Bearer {token}"}
                http.cookies.clear()
                space_id = (await http.post("/api/spaces", json={"name": "Bench"}, headers=headers)).json()["space"][
                    "id"
                ]
                asset = await http.post(
                    f"/api/spaces/{space_id}/uploads",
                    json={"filename": "x.mp4", "contentType": "video/mp4", "sizeBytes": 1},
                    headers=headers,
                )
                asset_id = asset.json()["assetId"]

                # The 100 MB video: stored under its media key and recorded as a completed variant
                # (serving reads bytes; it never decodes them, so the content need not be a real video).
                variant_id = uuid.uuid4().hex
                key = media_key(space_id, variant_id, "mp4")
                video = root / "video.bin"
                with video.open("wb") as out:
                    for _ in range(VIDEO_BYTES // MiB):
                        out.write(os.urandom(MiB))
                await store.put(key, video, content_type="video/mp4")
                service = state_app.state.service.extra["service"]
                async with service.spaces.use(space_id) as space:
                    seq = space.store.last_seq + 1
                variant = VariantRow(
                    id=variant_id,
                    asset_id=asset_id,
                    media_kind=MediaKind.VIDEO,
                    status=VariantStatus.COMPLETED,
                    media_key=key,
                    media_mime_type="video/mp4",
                    media_size_bytes=VIDEO_BYTES,
                    recipe="{}",
                    created_by=user_id,
                    created_at=1,
                )
                await service.replay(space_id, [VariantCreated(space_id=space_id, seq=seq, at=1, variant=variant)])

                url = f"/api/spaces/{space_id}/variants/{variant_id}/media"
                signed = await bus.request(SignMedia(key=key, method=SignMethod.GET, expires_seconds=3600))

                async def ranged(client: httpx.AsyncClient, target: str, extra: dict[str, str]) -> float:
                    started = time.perf_counter()
                    for offset in range(0, VIDEO_BYTES, CHUNK):
                        end = min(offset + CHUNK, VIDEO_BYTES) - 1
                        response = await client.get(target, headers={**extra, "Range": f"bytes={offset}-{end}"})
                        assert response.status_code == 206, response.text
                        assert len(response.content) == end - offset + 1
                    return time.perf_counter() - started

                raw, direct, gateway = [], [], []
                for _ in range(ROUNDS):
                    raw.append(await asyncio.to_thread(_raw_read, video))
                    direct.append(await ranged(http, signed.url, {}))
                    gateway.append(await ranged(http, url, headers))
                mb = VIDEO_BYTES / MiB
                best_raw, best_direct, best_gateway = mb / min(raw), mb / min(direct), mb / min(gateway)
                table.throughput("gateway Range reads (MiB)", best_gateway, best_raw, "raw file read")
                table.throughput("media byte endpoint (MiB)", best_direct, best_raw, "raw file read")
                table.note(
                    f"100 MiB in {CHUNK // MiB} MiB Range reads, best of {ROUNDS}; target ≥ 50% of raw: "
                    f"{'met' if best_gateway >= best_raw / 2 else 'NOT met'} ({best_gateway / best_raw:.0%})"
                )

                # The thumbnail of a 4096x4096 PNG: the whole ingest beside Pillow alone.
                buffer = io.BytesIO()
                size = (4096, 4096)
                noise = Image.effect_noise(size, 40)
                picture = Image.merge("RGB", (Image.linear_gradient("L").resize(size), noise, noise))
                picture.save(buffer, format="PNG", compress_level=1)
                png = buffer.getvalue()
                ingest_times, pillow_times = [], []
                for _ in range(ROUNDS):
                    thumb_variant = uuid.uuid4().hex
                    await store.put(staging_key(space_id, thumb_variant), png, content_type="image/png")
                    started = time.perf_counter()
                    await bus.request(
                        IngestMedia(space_id=space_id, variant_id=thumb_variant, media_kind=MediaKind.IMAGE),
                        timeout=120,
                    )
                    ingest_times.append(time.perf_counter() - started)
                    pillow_times.append(await asyncio.to_thread(_pillow_thumbnail, png))
                table.latency(
                    "ingest 4096² PNG (thumbnail)",
                    Latency.of(ingest_times),
                    Latency.of(pillow_times),
                    "Pillow thumbnail",
                )
                table.note(f"PNG of {len(png) / MiB:.1f} MiB; ingest also sniffs, measures and moves the original")
    table.print()
