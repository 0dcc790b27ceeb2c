"""What media is, decided from its bytes: the types we take per media kind, sniffing, limits, sizes.

Pure: no I/O, no decoders. The adapters (`imaging`, `audiovideo`) measure; this module
decides what the measurements mean. A file's name and declared type are never trusted:
the type is read from the first bytes and confirmed by the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

from makefx_contracts.rows import MediaKind
from makefx_media.errors import UndecodableMedia, UnsupportedMedia

SNIFF_BYTES = 64
"""How many leading bytes `sniff` needs."""


@dataclass(frozen=True)
class MediaType:
    mime: str
    extension: str
    kind: MediaKind


PNG = MediaType("image/png", "png", MediaKind.IMAGE)
JPEG = MediaType("image/jpeg", "jpg", MediaKind.IMAGE)
WEBP = MediaType("image/webp", "webp", MediaKind.IMAGE)
GIF = MediaType("image/gif", "gif", MediaKind.IMAGE)
WAV = MediaType("audio/wav", "wav", MediaKind.AUDIO)
MP3 = MediaType("audio/mpeg", "mp3", MediaKind.AUDIO)
OGG = MediaType("audio/ogg", "ogg", MediaKind.AUDIO)
FLAC = MediaType("audio/flac", "flac", MediaKind.AUDIO)
M4A = MediaType("audio/mp4", "m4a", MediaKind.AUDIO)
WEBM_AUDIO = MediaType("audio/webm", "webm", MediaKind.AUDIO)
MP4 = MediaType("video/mp4", "mp4", MediaKind.VIDEO)
MOV = MediaType("video/quicktime", "mov", MediaKind.VIDEO)
WEBM = MediaType("video/webm", "webm", MediaKind.VIDEO)
MKV = MediaType("video/x-matroska", "mkv", MediaKind.VIDEO)

ALLOWED: dict[MediaKind, tuple[MediaType, ...]] = {
    MediaKind.IMAGE: (PNG, JPEG, WEBP, GIF),
    MediaKind.AUDIO: (WAV, MP3, OGG, FLAC, M4A, WEBM_AUDIO),
    MediaKind.VIDEO: (MP4, MOV, WEBM, MKV),
}

# Containers that hold audio, video or both: the streams inside decide the kind.
_AUDIO_OF_CONTAINER = {MP4: M4A, MOV: M4A, WEBM: WEBM_AUDIO, MKV: WEBM_AUDIO}
_VIDEO_OF_CONTAINER = {M4A: MP4, WEBM_AUDIO: WEBM}

# What the decoders call each type: Pillow's format names, FFmpeg's demuxer names.
_DECODER_NAMES: dict[MediaType, tuple[str, ...]] = {
    PNG: ("PNG",),
    JPEG: ("JPEG", "MPO"),
    WEBP: ("WEBP",),
    GIF: ("GIF",),
    WAV: ("wav",),
    MP3: ("mp3",),
    OGG: ("ogg",),
    FLAC: ("flac",),
    M4A: ("mp4", "mov", "m4a"),
    MP4: ("mp4", "mov"),
    MOV: ("mov", "mp4"),
    WEBM_AUDIO: ("webm", "matroska"),
    WEBM: ("webm", "matroska"),
    MKV: ("matroska", "webm"),
}


@dataclass(frozen=True)
class Sniffed:
    """The type read from the leading bytes: one we take (`type`), or only a name for the refusal."""

    detected: str
    type: MediaType | None = None


def sniff(head: bytes) -> Sniffed:
    """The type of a file from its first `SNIFF_BYTES` bytes (magic numbers, never the name)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(PNG.mime, PNG)
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed(JPEG.mime, JPEG)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed(GIF.mime, GIF)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed(WEBP.mime, WEBP)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed(WAV.mime, WAV)
    if head.startswith(b"fLaC"):
        return Sniffed(FLAC.mime, FLAC)
    if head.startswith(b"OggS"):
        return Sniffed(OGG.mime, OGG)
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return Sniffed(MP3.mime, MP3)
    if head[4:8] == b"ftyp":
        return _iso_media(head[8:12])
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed(WEBM.mime, WEBM) if b"webm" in head else Sniffed(MKV.mime, MKV)
    return Sniffed(_name_of_other(head))


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG-1/2 Layer III frame header: 11 sync bits, layer III, a valid bitrate and sample rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate not in (0, 0xF) and sample_rate != 0b11


def _iso_media(brand: bytes) -> Sniffed:
    if brand in (b"M4A ", b"M4B ", b"M4P "):
        return Sniffed(M4A.mime, M4A)
    if brand == b"qt  ":
        return Sniffed(MOV.mime, MOV)
    if brand in (b"avif", b"avis"):
        return Sniffed("image/avif")
    if brand in (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"):
        return Sniffed("image/heic")
    return Sniffed(MP4.mime, MP4)


_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-msdownload"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"%PDF", "application/pdf"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!", "application/vnd.rar"),
    (b"#!", "text/x-shellscript"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def _name_of_other(head: bytes) -> str:
    """A name for bytes we do not take, so the refusal can say what they looked like."""
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return name
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        return "text/html"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "image/svg+xml"
    if text.startswith(b"<?xml"):
        return "application/xml"
    if text.startswith((b"{", b"[")):
        return "application/json"
    if not head:
        return "empty"
    return "application/octet-stream"


def accept(kind: MediaKind, sniffed: Sniffed, declared: str | None = None) -> MediaType:
    """The type to go on with, or `UnsupportedMedia` naming what the bytes really are.

    A container type that can carry either medium (MP4, WebM, Matroska) is taken for
    both audio and video here; `settle` decides from the streams found inside.
    """
    found = sniffed.type
    if found is not None:
        if found in ALLOWED[kind]:
            return found
        if kind is MediaKind.AUDIO and found in _AUDIO_OF_CONTAINER:
            return _AUDIO_OF_CONTAINER[found]
        if kind is MediaKind.VIDEO and found in _VIDEO_OF_CONTAINER:
            return _VIDEO_OF_CONTAINER[found]
    raise UnsupportedMedia(kind=kind, detected=sniffed.detected, declared=declared, allowed=allowed_mimes(kind))


def allowed_mimes(kind: MediaKind | None = None) -> list[str]:
    kinds = [kind] if kind is not None else list(MediaKind)
    return [media_type.mime for each in kinds for media_type in ALLOWED[each]]


def settle(kind: MediaKind, media_type: MediaType, *, has_video: bool, has_audio: bool) -> MediaType:
    """Confirm the kind from the streams a container really holds."""
    if kind is MediaKind.VIDEO and not has_video:
        raise UnsupportedMedia(
            kind=kind, detected=f"{media_type.mime} without a video stream", allowed=allowed_mimes(kind)
        )
    if kind is MediaKind.AUDIO:
        if has_video:
            raise UnsupportedMedia(
                kind=kind, detected=f"{media_type.mime} with a video stream", allowed=allowed_mimes(kind)
            )
        if not has_audio:
            raise UnsupportedMedia(
                kind=kind, detected=f"{media_type.mime} without an audio stream", allowed=allowed_mimes(kind)
            )
    return media_type


def check_decoder(media_type: MediaType, decoder_format: str) -> None:
    """The decoder must agree with the sniffed type (a PNG header before JPEG data is not a PNG)."""
    names = {name.strip().lower() for name in decoder_format.split(",")}
    if not names & {name.lower() for name in _DECODER_NAMES[media_type]}:
        raise UndecodableMedia(f"the bytes start like {media_type.mime} but decode as {decoder_format}")


def kind_of_streams(media_type: MediaType, *, has_video: bool) -> MediaKind:
    """For a probe without an expected kind: images are images; containers are video if they carry video."""
    if media_type.kind is MediaKind.IMAGE:
        return MediaKind.IMAGE
    return MediaKind.VIDEO if has_video else MediaKind.AUDIO


def audio_type_of(media_type: MediaType) -> MediaType:
    return _AUDIO_OF_CONTAINER.get(media_type, media_type)


def video_type_of(media_type: MediaType) -> MediaType:
    return _VIDEO_OF_CONTAINER.get(media_type, media_type)


def fit_within(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size of a picture scaled down (never up) so its longer side is at most `max_side`, aspect kept."""
    if width <= 0 or height <= 0:
        raise ValueError("a picture has a positive size")
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    """Refuse a picture whose decoded size could exhaust memory (a decompression bomb)."""
    if width * height > max_pixels:
        raise UndecodableMedia(
            f"{width}x{height} is more than {max_pixels} pixels",
            details={"width": width, "height": height, "maxPixels": max_pixels},
        )


def poster_time(duration_ms: int | None, preferred_seconds: float) -> float:
    """Where to take a video's poster: about `preferred_seconds` in, or the start of a shorter video."""
    if duration_ms is None or duration_ms / 1000 <= preferred_seconds:
        return 0.0
    return preferred_seconds
