"""Audio and video through PyAV (FFmpeg): streams, duration, dimensions, and a poster frame.

Blocking CPU work: the service runs these in a thread. Only a handful of frames are
decoded for a poster, and a frame size over the pixel limit is refused before any
decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import av.container
from PIL import Image

from makefx_media.domain import check_pixels, poster_time
from makefx_media.errors import UndecodableMedia
from makefx_media.imaging import Thumbnail, encode_webp

# A poster is taken from the first frames at or after its time; never decode more than this.
MAX_POSTER_FRAMES = 240


@dataclass(frozen=True)
class Recording:
    """What FFmpeg finds in an audio or video file."""

    format: str
    duration_ms: int | None
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None


def measure_recording(path: Path, *, max_pixels: int) -> Recording:
    """Streams and duration from the headers; for audio, one decoded frame proves the sound decodes."""
    with _open(path) as container:
        recording = _measure(container, max_pixels)
        if recording.has_audio and not recording.has_video:
            _first_audio_frame(container)
        return recording


def poster_frame(
    path: Path, *, at_seconds: float, max_side: int, max_pixels: int, quality: int
) -> tuple[Recording, Thumbnail | None]:
    """Measure a video and encode one frame from about `at_seconds` in (or its first frame) as WebP.

    A file without a video stream gets no poster; the caller decides whether that is acceptable.
    """
    with _open(path) as container:
        recording = _measure(container, max_pixels)
        if not recording.has_video:
            return recording, None
        target = poster_time(recording.duration_ms, at_seconds)
        frame = _frame_at(container, target) if target > 0 else None
        if frame is None:
            container.seek(0)
            frame = _frame_at(container, 0.0)
        if frame is None:
            raise UndecodableMedia("no video frame decodes")
        return recording, encode_webp(frame, max_side=max_side, quality=quality)


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as error:
        raise UndecodableMedia(f"not a readable audio or video file: {error}") from None


def _measure(container: av.container.InputContainer, max_pixels: int) -> Recording:
    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None
    width = height = None
    if video is not None:
        width, height = video.codec_context.width or None, video.codec_context.height or None
        if width and height:
            check_pixels(width, height, max_pixels)
    return Recording(
        format=container.format.name,
        duration_ms=_duration_ms(container),
        has_video=video is not None,
        has_audio=audio is not None,
        width=width,
        height=height,
        video_codec=video.codec_context.name if video is not None else None,
        audio_codec=audio.codec_context.name if audio is not None else None,
    )


def _duration_ms(container: av.container.InputContainer) -> int | None:
    if container.duration is not None and container.duration > 0:
        return round(container.duration * 1000 / av.time_base)
    longest = 0.0
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            longest = max(longest, float(stream.duration * stream.time_base))
    return round(longest * 1000) if longest > 0 else None


def _first_audio_frame(container: av.container.InputContainer) -> None:
    try:
        for _frame in container.decode(container.streams.audio[0]):
            return
    except (av.FFmpegError, OSError, ValueError) as error:
        raise UndecodableMedia(f"the audio does not decode: {error}") from None
    raise UndecodableMedia("no audio frame decodes")


def _frame_at(container: av.container.InputContainer, seconds: float) -> Image.Image | None:
    """The first frame at or after `seconds` (seeking to the keyframe before it), as a picture."""
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    try:
        if seconds > 0 and stream.time_base is not None:
            container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
        for decoded, frame in enumerate(container.decode(stream)):
            if frame.time is None or frame.time >= seconds - 0.001 or decoded >= MAX_POSTER_FRAMES:
                return frame.to_image()
    except (av.FFmpegError, OSError, ValueError) as error:
        raise UndecodableMedia(f"the video does not decode: {error}") from None
    return None
