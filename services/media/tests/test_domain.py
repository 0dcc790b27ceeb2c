"""The media rules, without I/O: sniffing real encoders' output, accepting per kind, sizes."""

from __future__ import annotations

import pytest

from makefx_contracts.rows import MediaKind
from makefx_media import domain
from makefx_media.errors import UndecodableMedia, UnsupportedMedia

from .conftest import Samples


@pytest.mark.parametrize(
    ("sample", "mime"),
    [
        ("png", "image/png"),
        ("png_4096", "image/png"),
        ("jpeg_exif_rotated", "image/jpeg"),
        ("webp", "image/webp"),
        ("gif", "image/gif"),
        ("wav", "audio/wav"),
        ("mp3", "audio/mpeg"),
        ("m4a", "video/mp4"),  # an `isom` MP4 holding only sound: the streams decide later
        ("mp4", "video/mp4"),
        ("webm", "video/webm"),
        ("elf", "application/x-executable"),
        ("zip", "application/zip"),
        ("html", "text/html"),
    ],
)
def test_real_files_are_recognised_by_their_first_bytes(samples: Samples, sample: str, mime: str) -> None:
    assert domain.sniff(getattr(samples, sample)[: domain.SNIFF_BYTES]).detected == mime


def test_an_mp3_without_an_id3_tag_is_recognised_by_its_frame_header(samples: Samples) -> None:
    # Skip the ID3v2 tag (10-byte header, syncsafe size) to reach the first MPEG frame.
    tag = samples.mp3
    size = (tag[6] << 21) | (tag[7] << 14) | (tag[8] << 7) | tag[9]
    bare = tag[10 + size :]
    assert bare[0] == 0xFF
    assert domain.sniff(bare[: domain.SNIFF_BYTES]).type == domain.MP3


@pytest.mark.parametrize(
    ("head", "detected"),
    [
        (b"", "empty"),
        (b"\xff\xfb", "application/octet-stream"),
        (b"%PDF-1.7", "application/pdf"),
        (b"MZ\x90\x00", "application/x-msdownload"),
        (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'>", "image/svg+xml"),
        (b"<?xml version='1.0'?><svg>", "image/svg+xml"),
        (b"\x00\x00\x00\x1cftypheic", "image/heic"),
        (b"\x00\x00\x00\x1cftypavif", "image/avif"),
        (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
        (b"\x00\x00\x00\x20ftypM4A ", "audio/mp4"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"fLaC\x00\x00\x00\x22", "audio/flac"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"\x1a\x45\xdf\xa3\x01\x00\x00\x00matroska", "video/x-matroska"),
    ],
)
def test_other_leading_bytes_are_named(head: bytes, detected: str) -> None:
    assert domain.sniff(head).detected == detected


def test_a_type_of_another_kind_is_refused_naming_it() -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        domain.accept(MediaKind.IMAGE, domain.sniff(b"\x7fELF\x02\x01"), declared="image/png")
    assert refused.value.details == {
        "detected": "application/x-executable",
        "allowed": ["image/png", "image/jpeg", "image/webp", "image/gif"],
        "mediaKind": "image",
        "declared": "image/png",
    }
    assert "application/x-executable" in refused.value.message
    with pytest.raises(UnsupportedMedia):
        domain.accept(MediaKind.AUDIO, domain.Sniffed("image/png", domain.PNG))


def test_the_declared_type_never_decides() -> None:
    assert domain.accept(MediaKind.IMAGE, domain.Sniffed("image/png", domain.PNG), declared="image/jpeg") is domain.PNG


def test_a_container_is_taken_as_audio_or_video_by_the_requested_kind_then_by_its_streams() -> None:
    assert domain.accept(MediaKind.AUDIO, domain.Sniffed("video/mp4", domain.MP4)) is domain.M4A
    assert domain.accept(MediaKind.AUDIO, domain.Sniffed("video/webm", domain.WEBM)) is domain.WEBM_AUDIO
    assert domain.accept(MediaKind.VIDEO, domain.Sniffed("audio/mp4", domain.M4A)) is domain.MP4
    assert domain.settle(MediaKind.VIDEO, domain.MP4, has_video=True, has_audio=False) is domain.MP4
    with pytest.raises(UnsupportedMedia, match="without a video stream"):
        domain.settle(MediaKind.VIDEO, domain.MP4, has_video=False, has_audio=True)
    with pytest.raises(UnsupportedMedia, match="with a video stream"):
        domain.settle(MediaKind.AUDIO, domain.M4A, has_video=True, has_audio=True)
    with pytest.raises(UnsupportedMedia, match="without an audio stream"):
        domain.settle(MediaKind.AUDIO, domain.M4A, has_video=False, has_audio=False)


def test_the_decoder_must_agree_with_the_sniffed_type() -> None:
    domain.check_decoder(domain.MP4, "mov,mp4,m4a,3gp,3g2,mj2")
    domain.check_decoder(domain.WEBM, "matroska,webm")
    domain.check_decoder(domain.JPEG, "JPEG")
    with pytest.raises(UndecodableMedia):
        domain.check_decoder(domain.PNG, "JPEG")
    with pytest.raises(UndecodableMedia):
        domain.check_decoder(domain.MP3, "wav")


@pytest.mark.parametrize(
    ("size", "bounded"),
    [
        ((640, 480), (512, 384)),
        ((4096, 4096), (512, 512)),
        ((800, 1200), (341, 512)),
        ((300, 200), (300, 200)),
        ((5000, 3), (512, 1)),
    ],
)
def test_a_picture_is_scaled_down_within_the_bound_keeping_its_aspect(
    size: tuple[int, int], bounded: tuple[int, int]
) -> None:
    assert domain.fit_within(*size, 512) == bounded


def test_too_many_pixels_are_refused_before_decoding() -> None:
    domain.check_pixels(8000, 8000, 64_000_000)
    with pytest.raises(UndecodableMedia) as refused:
        domain.check_pixels(50_000, 50_000, 64_000_000)
    assert refused.value.details["maxPixels"] == 64_000_000


def test_the_poster_comes_from_about_a_second_in_unless_the_video_is_shorter() -> None:
    assert domain.poster_time(2000, 1.0) == 1.0
    assert domain.poster_time(800, 1.0) == 0.0
    assert domain.poster_time(None, 1.0) == 0.0
