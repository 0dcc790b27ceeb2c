"""Fixtures of the media tests: real media from real encoders, a real S3 server, a running media service.

Every sample is made here by the encoder that makes such files in the wild (Pillow for
PNG/JPEG/WebP/GIF, the `wave` module for WAV, FFmpeg through PyAV for MP3, M4A, MP4
and WebM), so what the service is tested on is what it will be sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import socket
import struct
import wave
import zipfile
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import uvicorn
from PIL import Image, ImageDraw

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_contracts.media import SignMedia, SignMethod
from makefx_media.app import bootstrap
from makefx_media.settings import MediaSettings
from makefx_settings import ServiceSettings
from makefx_storage import ObjectStore, open_store
from makefx_storage.keys import staging_key
from makefx_storage.seaweed import SeaweedS3

SIGNING_SECRET = "media-test-signing-secret-of-enough-length"


# -- samples --------------------------------------------------------------------------


def _png(image: Image.Image, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A picture with structure (gradient, shapes), so encoders and thumbnails have real work."""
    width, height = size
    down = Image.linear_gradient("L")
    across = down.transpose(Image.Transpose.ROTATE_90)
    image = Image.merge("RGB", (down.resize(size), across.resize(size), Image.new("L", size, 90)))
    draw = ImageDraw.Draw(image)
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(250, 200, 20))
    draw.rectangle([0, 0, width // 8, height // 8], fill=(200, 0, 0))
    return image.convert(mode)


def _transparent(size: tuple[int, int]) -> Image.Image:
    """Opaque at the top, fading to fully transparent at the bottom."""
    image = _picture(size, "RGBA")
    image.putalpha(Image.linear_gradient("L").transpose(Image.Transpose.FLIP_TOP_BOTTOM).resize(size))
    return image


def _tone(seconds: float, rate: int, frequency: float = 440.0) -> bytes:
    return b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * n / rate))) for n in range(int(seconds * rate))
    )


def _wav(seconds: float, rate: int = 44100) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(_tone(seconds, rate))
    return buffer.getvalue()


def _encode_audio(stream: av.audio.stream.AudioStream, pcm: bytes, rate: int) -> Iterator[av.Packet]:
    samples = stream.codec_context.frame_size or 1152
    pts = 0
    for offset in range(0, len(pcm), samples * 2):
        chunk = pcm[offset : offset + samples * 2]
        chunk += b"\0" * (samples * 2 - len(chunk))
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(chunk)
        frame.sample_rate, frame.pts = rate, pts
        pts += samples
        yield from stream.encode(frame)
    yield from stream.encode(None)


def _audio_file(container: str, codec: str, seconds: float, rate: int = 44100) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        for packet in _encode_audio(stream, _tone(seconds, rate), rate):
            out.mux(packet)
    return buffer.getvalue()


def _video_file(
    container: str, video_codec: str, audio_codec: str | None, seconds: float, size: tuple[int, int], fps: int = 25
) -> bytes:
    """Frames whose colour changes over time (so the poster's moment shows), plus a tone."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        video = out.add_stream(video_codec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio = out.add_stream(audio_codec, rate=48000) if audio_codec else None
        if audio is not None:
            audio.layout = "mono"
        frames = int(seconds * fps)
        for index in range(frames):
            shade = int(255 * index / frames)
            picture = Image.new("RGB", size, (shade, 40, 255 - shade))
            ImageDraw.Draw(picture).rectangle([index * 2, 10, index * 2 + 30, 40], fill=(255, 255, 0))
            frame = av.VideoFrame.from_image(picture)
            frame.pts = index
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if audio is not None:
            for packet in _encode_audio(audio, _tone(seconds, 48000), 48000):
                out.mux(packet)
    return buffer.getvalue()


def _jpeg_turned_sideways() -> bytes:
    """A 1200x800 JPEG whose EXIF says "rotate 90° clockwise to show" (orientation 6), as phones write."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    _picture((1200, 800)).save(buffer, format="JPEG", quality=85, exif=exif.tobytes())
    return buffer.getvalue()


def _animated_gif() -> bytes:
    frames = [_picture((300, 200)).convert("P"), _picture((300, 200)).rotate(180).convert("P")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def _png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid PNG header claiming 2.5 gigapixels before a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
        + chunk(b"IEND", b"")
    )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.txt", "not a picture")
    return buffer.getvalue()


@dataclass(frozen=True)
class Samples:
    png: bytes
    png_transparent: bytes
    png_4096: bytes
    jpeg_exif_rotated: bytes
    webp: bytes
    gif: bytes
    wav: bytes
    mp3: bytes
    m4a: bytes
    mp4: bytes
    webm: bytes
    elf: bytes
    zip: bytes
    html: bytes
    truncated_png: bytes
    png_bomb: bytes


@pytest.fixture(scope="session")
def samples() -> Samples:
    webp = io.BytesIO()
    _picture((800, 600)).save(webp, format="WEBP", quality=80)
    png = _png(_picture((640, 480)))
    return Samples(
        png=png,
        png_transparent=_png(_transparent((600, 300))),
        png_4096=_png(_picture((4096, 4096)), compress_level=1),
        jpeg_exif_rotated=_jpeg_turned_sideways(),
        webp=webp.getvalue(),
        gif=_animated_gif(),
        wav=_wav(1.5),
        mp3=_audio_file("mp3", "libmp3lame", 2.0),
        m4a=_audio_file("mp4", "aac", 2.0),
        mp4=_video_file("mp4", "libx264", "aac", 2.0, (320, 240)),
        webm=_video_file("webm", "libvpx-vp9", "libopus", 1.6, (256, 144)),
        elf=b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x00" * 1024,
        zip=_zip(),
        html=b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        truncated_png=png[:200],
        png_bomb=_png_bomb(),
    )


# -- servers and the running service --------------------------------------------------


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One `weed mini` for the session, S3 authentication on (one access key and secret)."""
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def bucket_name(tmp_path: Path) -> str:
    return "m-" + tmp_path.name.lower().replace("_", "-")[-50:].strip("-")


@pytest.fixture(params=["fs", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_settings(
    backend: str, nats_server: NatsServer, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[..., MediaSettings]:
    """Settings for a media service on this test's directory or bucket; keyword arguments override."""

    def make(**overrides: Any) -> MediaSettings:
        values: dict[str, Any] = {
            "nats_url": nats_server.url,
            "data_dir": tmp_path / "data",
            "storage_backend": backend,
            "media_signing_secret": SIGNING_SECRET,
            "log_format": "text",
        }
        if backend == "s3":
            server: SeaweedS3 = request.getfixturevalue("s3_server")
            values |= {
                "s3_endpoint": server.endpoint,
                "s3_bucket": bucket_name(tmp_path),
                "s3_access_key": server.access_key,
                "s3_secret_key": server.secret_key,
                "s3_secure": False,
            }
        values.update(overrides)
        return MediaSettings(**values)

    return make


@dataclass
class RunningMedia:
    settings: MediaSettings
    url: str
    bus: Bus
    store: ObjectStore
    http: httpx.AsyncClient

    async def sign(self, key: str, method: SignMethod = SignMethod.GET, expires_seconds: int = 300) -> str:
        signed = await self.bus.request(SignMedia(key=key, method=method, expires_seconds=expires_seconds))
        return signed.url

    async def stage(self, space_id: str, variant_id: str, data: bytes, content_type: str = "image/png") -> str:
        """Upload as a browser or worker does: ask for a signed PUT URL, then PUT the bytes to it."""
        key = staging_key(space_id, variant_id)
        response = await self.http.put(
            await self.sign(key, SignMethod.PUT), content=data, headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, response.text
        return key

    async def read(self, key: str) -> bytes:
        async with await self.store.get(key) as stream:
            return await stream.read()


@pytest.fixture
async def start_media(nats_server: NatsServer) -> AsyncIterator[Callable[[MediaSettings], Awaitable[RunningMedia]]]:
    """Starts real media services (uvicorn on a socket bound first, so the service knows its own URL)."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(settings: MediaSettings) -> RunningMedia:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            settings = settings.model_copy(update={"http_port": port})
            app = bootstrap(settings)
            server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
            task = asyncio.create_task(server.serve(sockets=[sock]))

            async def stop() -> None:
                server.should_exit = True
                await task
                sock.close()

            stack.push_async_callback(stop)
            async with asyncio.timeout(20):
                while not server.started:
                    if task.done():
                        task.result()
                        raise RuntimeError("the media service stopped during startup")
                    await asyncio.sleep(0.01)
            bus = Bus(ServiceSettings(nats_url=nats_server.url, service_name="media-test-client"))
            await bus.start()
            stack.push_async_callback(bus.stop)
            store = open_store(settings)  # the test's own handle on the service's store
            await store.start()
            stack.push_async_callback(store.close)
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
            return RunningMedia(settings=settings, url=f"http://127.0.0.1:{port}", bus=bus, store=store, http=http)

        yield start


@pytest.fixture
async def media(start_media: Callable[[MediaSettings], Awaitable[RunningMedia]], make_settings) -> RunningMedia:
    return await start_media(make_settings())
