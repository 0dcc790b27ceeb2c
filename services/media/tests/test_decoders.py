"""The Pillow and PyAV adapters on real files: measurements, thumbnails, posters, refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from makefx_media import audiovideo, imaging
from makefx_media.errors import UndecodableMedia

from .conftest import Samples

LIMIT = 64_000_000


def write(tmp_path: Path, data: bytes, name: str = "object") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_an_exif_rotated_jpeg_is_measured_and_thumbnailed_upright(samples: Samples, tmp_path: Path) -> None:
    path = write(tmp_path, samples.jpeg_exif_rotated)
    assert imaging.measure_image(path, max_pixels=LIMIT) == imaging.Picture("JPEG", 800, 1200)
    picture, thumbnail = imaging.thumbnail_image(path, max_side=512, max_pixels=LIMIT, quality=80)
    assert (picture.width, picture.height) == (800, 1200)
    shown = Image.open(io.BytesIO(thumbnail.webp))
    assert shown.size == (thumbnail.width, thumbnail.height) == (341, 512)
    # The red square drawn in the stored top-left corner shows top-right once turned upright.
    red, green, _ = shown.convert("RGB").getpixel((shown.width - 5, 5))
    assert red > 150 and green < 80


def test_a_png_bomb_is_refused_from_its_header(samples: Samples, tmp_path: Path) -> None:
    path = write(tmp_path, samples.png_bomb)
    with pytest.raises(UndecodableMedia, match="pixels"):
        imaging.thumbnail_image(path, max_side=512, max_pixels=LIMIT, quality=80)


def test_the_pixel_limit_of_the_settings_applies_before_decoding(samples: Samples, tmp_path: Path) -> None:
    path = write(tmp_path, samples.png_4096)
    with pytest.raises(UndecodableMedia, match="4096x4096"):
        imaging.thumbnail_image(path, max_side=512, max_pixels=4096 * 4096 - 1, quality=80)


def test_a_truncated_png_is_refused(samples: Samples, tmp_path: Path) -> None:
    with pytest.raises(UndecodableMedia):
        imaging.thumbnail_image(write(tmp_path, samples.truncated_png), max_side=512, max_pixels=LIMIT, quality=80)


def test_an_mp4_is_measured_and_gives_a_poster(samples: Samples, tmp_path: Path) -> None:
    path = write(tmp_path, samples.mp4)
    recording, poster = audiovideo.poster_frame(path, at_seconds=1.0, max_side=160, max_pixels=LIMIT, quality=80)
    assert recording.format.split(",")[:2] == ["mov", "mp4"]
    assert (recording.width, recording.height, recording.video_codec, recording.audio_codec) == (
        320,
        240,
        "h264",
        "aac",
    )
    assert (recording.has_video, recording.has_audio) == (True, True)
    assert poster is not None and (poster.width, poster.height) == (160, 120)
    assert Image.open(io.BytesIO(poster.webp)).format == "WEBP"


def test_a_video_shorter_than_the_poster_time_gives_its_first_frame(samples: Samples, tmp_path: Path) -> None:
    path = write(tmp_path, samples.mp4)
    _, poster = audiovideo.poster_frame(path, at_seconds=30.0, max_side=512, max_pixels=LIMIT, quality=80)
    assert poster is not None
    red, _, blue = Image.open(io.BytesIO(poster.webp)).convert("RGB").getpixel((300, 200))
    assert blue > red + 150  # the first frames are blue


def test_a_video_frame_over_the_pixel_limit_is_refused(samples: Samples, tmp_path: Path) -> None:
    with pytest.raises(UndecodableMedia):
        audiovideo.measure_recording(write(tmp_path, samples.mp4), max_pixels=320 * 240 - 1)


@pytest.mark.parametrize(("sample", "codec", "duration_ms"), [("wav", "pcm_s16le", 1500), ("mp3", "mp3float", 2000)])
def test_sound_is_measured(samples: Samples, tmp_path: Path, sample: str, codec: str, duration_ms: int) -> None:
    recording = audiovideo.measure_recording(write(tmp_path, getattr(samples, sample)), max_pixels=LIMIT)
    assert (recording.has_audio, recording.has_video, recording.audio_codec) == (True, False, codec)
    assert recording.duration_ms is not None and abs(recording.duration_ms - duration_ms) <= 60


def test_garbage_after_an_id3_tag_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UndecodableMedia):
        audiovideo.measure_recording(
            write(tmp_path, b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 5000), max_pixels=LIMIT
        )
