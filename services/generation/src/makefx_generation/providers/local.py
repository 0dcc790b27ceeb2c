"""The `local` provider: real, valid files made offline, used for any provider without a key.

A PNG with the prompt drawn on it, a WAV tone sequence derived from the prompt, a short
H.264 MP4 through PyAV; each honours the recipe's size and duration.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import struct
import textwrap
import wave
from collections.abc import Sequence

from makefx_contracts.generation import GenerationJob
from makefx_contracts.rows import MediaKind
from makefx_generation.providers.base import (
    Generated,
    ProgressReport,
    ProviderRejected,
    Reference,
    no_progress,
    option,
)

_MAX_SIDE = 4096
_MAX_SECONDS = 120.0
_SAMPLE_RATE = 22_050
_VIDEO_SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def _seed(prompt: str) -> bytes:
    return hashlib.sha256(prompt.encode()).digest()


def _size(job: GenerationJob, default: tuple[int, int]) -> tuple[int, int]:
    width, height = int(option(job, "width", default[0])), int(option(job, "height", default[1]))
    if not (1 <= width <= _MAX_SIDE and 1 <= height <= _MAX_SIDE):
        raise ProviderRejected(f"a size of {width}x{height} is not supported (at most {_MAX_SIDE} a side)")
    return width, height


def draw_png(prompt: str, width: int, height: int) -> bytes:
    """Ellipses and the prompt on a background, colours from the prompt's hash.

    Drawn as a palette image (nine colours) and saved with light compression: a 1024 px
    square takes about 3 ms instead of 30 ms in RGB at the default level, and the file is
    a few kilobytes either way.
    """
    from PIL import Image, ImageDraw

    seed = _seed(prompt)
    shapes = [seed[4 + index * 4 : 8 + index * 4] for index in range(6)]
    palette = [seed[0], seed[1], seed[2], 255, 255, 255]
    for a, b, c, _ in shapes:
        palette += [c, a, b]
    image = Image.new("P", (width, height), 0)
    image.putpalette(palette)
    draw = ImageDraw.Draw(image)
    for index, (a, b, c, d) in enumerate(shapes):
        box = sorted((a * width // 255, c * width // 255)), sorted((b * height // 255, d * height // 255))
        draw.ellipse((box[0][0], box[1][0], box[0][1], box[1][1]), fill=2 + index, outline=1)
    text = "\n".join(textwrap.wrap(prompt, width=max(8, width // 8))[: max(1, height // 14)])
    draw.multiline_text((8, 8), text, fill=1)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def tone_wav(prompt: str, seconds: float) -> bytes:
    """A sequence of sine tones, one per quarter second, their pitches taken from the prompt."""
    seed = _seed(prompt)
    frames = int(seconds * _SAMPLE_RATE)
    step = _SAMPLE_RATE // 4
    samples = bytearray()
    for start in range(0, frames, step):
        pitch = 220.0 * 2 ** (seed[(start // step) % len(seed)] % 24 / 12)
        for n in range(min(step, frames - start)):
            envelope = min(1.0, n / 200, (step - n) / 200)
            value = int(12_000 * envelope * math.sin(2 * math.pi * pitch * n / _SAMPLE_RATE))
            samples += struct.pack("<h", value)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(_SAMPLE_RATE)
        writer.writeframes(bytes(samples))
    return out.getvalue()


def draw_mp4(prompt: str, width: int, height: int, seconds: float, fps: int = 12) -> bytes:
    import av
    from PIL import Image, ImageDraw

    seed = _seed(prompt)
    width, height = width - width % 2, height - height % 2
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(max(1, round(seconds * fps))):
            picture = Image.new("RGB", (width, height), (seed[0], seed[1], seed[2]))
            x = (index * 8) % max(1, width - 32)
            ImageDraw.Draw(picture).rectangle((x, height // 3, x + 32, height // 3 + 32), fill=(255, 255, 255))
            video = av.VideoFrame.from_image(picture)
            video.pts = index
            for packet in stream.encode(video):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


class LocalProvider:
    """Stands in for `provider` (the recipe's) when it has no key: same job, real files, no network."""

    name = "local"
    takes_references = False

    async def generate(
        self, job: GenerationJob, report: ProgressReport = no_progress, references: Sequence[Reference] = ()
    ) -> Generated:
        prompt = str(job.recipe.get("prompt", ""))
        model = str(job.recipe.get("model", "local"))
        match job.media_kind:
            case MediaKind.IMAGE:
                width, height = _size(job, (1024, 1024))
                data = await asyncio.to_thread(draw_png, prompt, width, height)
                return Generated(data, "image/png", self.name, model, {"width": width, "height": height})
            case MediaKind.AUDIO:
                seconds = float(option(job, "durationSeconds", 5))
                if not 0 < seconds <= _MAX_SECONDS:
                    raise ProviderRejected(f"a duration of {seconds}s is not supported (at most {_MAX_SECONDS:.0f}s)")
                data = await asyncio.to_thread(tone_wav, prompt, seconds)
                return Generated(data, "audio/wav", self.name, model, {"seconds": seconds}, seconds)
            case MediaKind.VIDEO:
                default = _VIDEO_SIZES.get(str(option(job, "videoResolution", "720p")), (1280, 720))
                width, height = _size(job, default)
                seconds = float(option(job, "videoDurationSeconds", 4))
                if not 0 < seconds <= 60:
                    raise ProviderRejected(f"a video of {seconds}s is not supported (at most 60s)")
                data = await asyncio.to_thread(draw_mp4, prompt, width, height, seconds)
                meta = {"width": width, "height": height, "seconds": seconds}
                return Generated(data, "video/mp4", self.name, model, meta, seconds)
