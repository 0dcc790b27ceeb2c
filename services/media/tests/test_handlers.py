"""`fx.media.*` end to end: a real nats-server, the media service on uvicorn, each storage backend.

Bytes are staged the way browsers and workers do it (a signed PUT URL from `SignMedia`),
then ingested over the bus; what the service wrote is read back from the store.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable

import pytest
from PIL import Image

from makefx_contracts.errors import NotFound, PermissionDenied, ValidationFailed
from makefx_contracts.media import (
    DeleteVariantMedia,
    IngestMedia,
    MediaIngested,
    ProbeMedia,
    SignMedia,
    SignMethod,
)
from makefx_contracts.rows import MediaKind
from makefx_media.settings import MediaSettings

from .conftest import RunningMedia, Samples

INGEST_TIMEOUT = 60


async def ingest(media: RunningMedia, variant_id: str, kind: MediaKind, **fields: str) -> MediaIngested:
    return await media.bus.request(
        IngestMedia(space_id="spc_1", variant_id=variant_id, media_kind=kind, **fields), timeout=INGEST_TIMEOUT
    )


def picture_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_a_staged_png_is_filed_under_the_seed_keys_with_a_webp_thumbnail(
    media: RunningMedia, samples: Samples
) -> None:
    staged = await media.stage("spc_1", "var_png", samples.png)
    done = await ingest(media, "var_png", MediaKind.IMAGE, declared_content_type="image/png")
    assert done.media_key == done.image_key == "images/spc_1/var_png.png"
    assert done.thumb_key == "images/spc_1/var_png_thumb.webp"
    assert done.poster_key is None
    assert (done.mime_type, done.size_bytes, done.width, done.height) == ("image/png", len(samples.png), 640, 480)
    assert done.duration_ms is None
    assert await media.read(done.media_key) == samples.png
    assert (await media.store.stat(done.media_key)).content_type == "image/png"
    assert await media.store.exists(staged) is False
    thumbnail = picture_of(await media.read(done.thumb_key))
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == (512, 384)
    assert (await media.store.stat(done.thumb_key)).content_type == "image/webp"


@pytest.mark.parametrize(
    ("sample", "mime", "extension", "size", "thumb_size"),
    [
        ("jpeg_exif_rotated", "image/jpeg", "jpg", (800, 1200), (341, 512)),
        ("webp", "image/webp", "webp", (800, 600), (512, 384)),
        ("gif", "image/gif", "gif", (300, 200), (300, 200)),
        ("png_transparent", "image/png", "png", (600, 300), (512, 256)),
    ],
)
async def test_every_image_type_gets_an_upright_bounded_thumbnail(
    media: RunningMedia,
    samples: Samples,
    sample: str,
    mime: str,
    extension: str,
    size: tuple[int, int],
    thumb_size: tuple[int, int],
) -> None:
    await media.stage("spc_1", "var_img", getattr(samples, sample))
    done = await ingest(media, "var_img", MediaKind.IMAGE)
    assert done.mime_type == mime
    assert done.media_key == f"images/spc_1/var_img.{extension}"
    assert (done.width, done.height) == size
    thumbnail = picture_of(await media.read(done.thumb_key or ""))
    assert (thumbnail.format, thumbnail.size) == ("WEBP", thumb_size)
    if sample == "png_transparent":
        assert thumbnail.mode == "RGBA"


async def test_a_4096_pixel_png_is_thumbnailed_while_the_service_keeps_answering(
    media: RunningMedia, samples: Samples
) -> None:
    await media.stage("spc_1", "var_big", samples.png_4096)
    big = asyncio.create_task(ingest(media, "var_big", MediaKind.IMAGE))
    await asyncio.sleep(0)  # the ingest request is on its way

    # Decoding runs in a thread: the service (which shares this event loop) answers other
    # requests — a signed URL, a whole small ingest — while the big picture is still decoding.
    await media.sign("images/spc_1/other.png")
    await media.stage("spc_1", "var_small", samples.png)
    small = await ingest(media, "var_small", MediaKind.IMAGE)
    answered_while_decoding = not big.done()
    done = await big

    assert answered_while_decoding
    assert (small.width, small.height) != (4096, 4096)
    assert (done.width, done.height) == (4096, 4096)
    thumbnail = picture_of(await media.read(done.thumb_key or ""))
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (512, 512))


async def test_an_mp4_gets_a_poster_dimensions_and_a_duration(media: RunningMedia, samples: Samples) -> None:
    await media.stage("spc_1", "var_mp4", samples.mp4, "video/mp4")
    done = await ingest(media, "var_mp4", MediaKind.VIDEO)
    assert done.media_key == "media/spc_1/var_mp4.mp4"
    assert done.image_key is None and done.thumb_key is None
    assert done.poster_key == "media/spc_1/var_mp4_poster.webp"
    assert (done.mime_type, done.width, done.height) == ("video/mp4", 320, 240)
    assert done.duration_ms is not None and abs(done.duration_ms - 2000) <= 60
    poster = picture_of(await media.read(done.poster_key))
    assert (poster.format, poster.size) == ("WEBP", (320, 240))
    # Taken about 1 s in, where the frames are half way from blue to red.
    red, _, blue = poster.convert("RGB").getpixel((300, 200))
    assert abs(red - blue) < 60
    assert await media.read(done.media_key) == samples.mp4


async def test_a_webm_video_is_taken_as_video_webm(media: RunningMedia, samples: Samples) -> None:
    await media.stage("spc_1", "var_webm", samples.webm, "video/webm")
    done = await ingest(media, "var_webm", MediaKind.VIDEO)
    assert (done.media_key, done.mime_type) == ("media/spc_1/var_webm.webm", "video/webm")
    assert (done.width, done.height) == (256, 144)
    assert done.poster_key is not None and await media.store.exists(done.poster_key)


@pytest.mark.parametrize(
    ("sample", "mime", "extension", "duration_ms"),
    [("wav", "audio/wav", "wav", 1500), ("mp3", "audio/mpeg", "mp3", 2000), ("m4a", "audio/mp4", "m4a", 2000)],
)
async def test_audio_gets_its_duration(
    media: RunningMedia, samples: Samples, sample: str, mime: str, extension: str, duration_ms: int
) -> None:
    await media.stage("spc_1", "var_sound", getattr(samples, sample), "audio/mpeg")
    done = await ingest(media, "var_sound", MediaKind.AUDIO)
    assert (done.media_key, done.mime_type) == (f"media/spc_1/var_sound.{extension}", mime)
    assert done.duration_ms is not None and abs(done.duration_ms - duration_ms) <= 60
    assert (done.width, done.height, done.thumb_key, done.poster_key, done.image_key) == (None,) * 5


@pytest.mark.parametrize(
    ("sample", "detected"),
    [("elf", "application/x-executable"), ("zip", "application/zip"), ("html", "text/html")],
)
async def test_a_png_that_is_really_something_else_is_refused_naming_what_it_is(
    media: RunningMedia, samples: Samples, sample: str, detected: str
) -> None:
    staged = await media.stage("spc_1", "var_fake", getattr(samples, sample), "image/png")
    with pytest.raises(ValidationFailed) as refused:
        await ingest(media, "var_fake", MediaKind.IMAGE, declared_content_type="image/png")
    assert refused.value.details["detected"] == detected
    assert refused.value.details["declared"] == "image/png"
    assert detected in refused.value.message
    # Refused bytes do not stay, and nothing was filed.
    assert await media.store.exists(staged) is False
    assert [key async for key in media.store.list_keys("images/spc_1/")] == []


@pytest.mark.parametrize(
    ("sample", "kind", "detected"),
    [
        ("mp4", MediaKind.IMAGE, "video/mp4"),
        ("png", MediaKind.VIDEO, "image/png"),
        ("m4a", MediaKind.VIDEO, "video/mp4 without a video stream"),
        ("mp4", MediaKind.AUDIO, "audio/mp4 with a video stream"),
    ],
)
async def test_media_of_another_kind_is_refused(
    media: RunningMedia, samples: Samples, sample: str, kind: MediaKind, detected: str
) -> None:
    await media.stage("spc_1", "var_kind", getattr(samples, sample))
    with pytest.raises(ValidationFailed) as refused:
        await ingest(media, "var_kind", kind)
    assert refused.value.details["detected"] == detected


@pytest.mark.parametrize("sample", ["truncated_png", "png_bomb"])
async def test_an_image_that_does_not_decode_safely_is_refused(
    media: RunningMedia, samples: Samples, sample: str
) -> None:
    await media.stage("spc_1", "var_broken", getattr(samples, sample))
    with pytest.raises(ValidationFailed):
        await ingest(media, "var_broken", MediaKind.IMAGE)
    assert await media.store.exists("images/spc_1/var_broken_thumb.webp") is False


async def test_a_file_over_the_kind_limit_is_refused(
    start_media: Callable, make_settings: Callable[..., MediaSettings], samples: Samples
) -> None:
    media = await start_media(make_settings(max_image_bytes=1000))
    await media.stage("spc_1", "var_big", samples.png)
    with pytest.raises(ValidationFailed) as refused:
        await ingest(media, "var_big", MediaKind.IMAGE)
    assert refused.value.details == {"mediaKind": "image", "sizeBytes": len(samples.png), "limitBytes": 1000}


async def test_ingesting_again_answers_the_same_without_the_staged_bytes(media: RunningMedia, samples: Samples) -> None:
    await media.stage("spc_1", "var_again", samples.png)
    first = await ingest(media, "var_again", MediaKind.IMAGE)
    again = await ingest(media, "var_again", MediaKind.IMAGE)
    assert again == first


async def test_a_new_upload_of_another_type_replaces_the_old_file(media: RunningMedia, samples: Samples) -> None:
    await media.stage("spc_1", "var_swap", samples.png)
    await ingest(media, "var_swap", MediaKind.IMAGE)
    await media.stage("spc_1", "var_swap", samples.webp)
    done = await ingest(media, "var_swap", MediaKind.IMAGE)
    assert [key async for key in media.store.list_keys("images/spc_1/var_swap")] == [
        "images/spc_1/var_swap.webp",
        "images/spc_1/var_swap_thumb.webp",
    ]
    assert (done.width, done.height) == (800, 600)


async def test_ingesting_without_staged_bytes_is_not_found(media: RunningMedia) -> None:
    with pytest.raises(NotFound):
        await ingest(media, "var_nothing", MediaKind.IMAGE)


async def test_a_source_key_of_another_variant_or_a_derived_file_is_refused(
    media: RunningMedia, samples: Samples
) -> None:
    await media.stage("spc_1", "var_other", samples.png)
    with pytest.raises(ValidationFailed):
        await ingest(media, "var_mine", MediaKind.IMAGE, source_key="staging/spc_1/var_other")
    done = await ingest(media, "var_other", MediaKind.IMAGE)
    with pytest.raises(ValidationFailed):
        await ingest(media, "var_other", MediaKind.IMAGE, source_key=done.thumb_key or "")


async def test_the_variant_own_key_is_ingested_in_place(media: RunningMedia, samples: Samples) -> None:
    """A file a worker wrote straight to its final key (or a legacy one) gets its thumbnail and facts."""
    await media.store.put("images/spc_1/var_legacy.png", samples.png, content_type="application/octet-stream")
    done = await ingest(media, "var_legacy", MediaKind.IMAGE, source_key="images/spc_1/var_legacy.png")
    assert (done.media_key, done.thumb_key) == ("images/spc_1/var_legacy.png", "images/spc_1/var_legacy_thumb.webp")
    assert (await media.store.stat(done.media_key)).content_type == "image/png"
    assert await media.read(done.media_key) == samples.png


async def test_a_variant_file_named_for_the_wrong_type_is_refiled_under_its_real_type_and_kept(
    media: RunningMedia, samples: Samples
) -> None:
    """`v.png` that is really a JPEG: the file moves to `v.jpg`, and the clean-up of stale keys never takes it."""
    for attempt in range(5):  # the move and the clean-up once raced; a few rounds would show it
        variant_id = f"var_misnamed{attempt}"
        await media.store.put(f"images/spc_1/{variant_id}.png", samples.jpeg_exif_rotated, content_type="image/png")
        done = await ingest(media, variant_id, MediaKind.IMAGE, source_key=f"images/spc_1/{variant_id}.png")
        assert (done.media_key, done.mime_type) == (f"images/spc_1/{variant_id}.jpg", "image/jpeg")
        assert await media.read(done.media_key) == samples.jpeg_exif_rotated
        assert [key async for key in media.store.list_keys(f"images/spc_1/{variant_id}")] == [
            f"images/spc_1/{variant_id}.jpg",
            f"images/spc_1/{variant_id}_thumb.webp",
        ]


async def test_delete_removes_every_object_of_the_variant_and_no_other(media: RunningMedia, samples: Samples) -> None:
    await media.stage("spc_1", "var_1", samples.mp4, "video/mp4")
    await ingest(media, "var_1", MediaKind.VIDEO)
    await media.stage("spc_1", "var_1", samples.png)  # a new upload waiting in staging
    await media.stage("spc_1", "var_10", samples.png)
    await ingest(media, "var_10", MediaKind.IMAGE)

    deleted = await media.bus.request(DeleteVariantMedia(space_id="spc_1", variant_id="var_1"))
    assert sorted(deleted.deleted_keys) == [
        "media/spc_1/var_1.mp4",
        "media/spc_1/var_1_poster.webp",
        "staging/spc_1/var_1",
    ]
    remaining = [key async for key in media.store.list_keys("")]
    assert remaining == ["images/spc_1/var_10.png", "images/spc_1/var_10_thumb.webp"]
    again = await media.bus.request(DeleteVariantMedia(space_id="spc_1", variant_id="var_1"))
    assert again.deleted_keys == []


async def test_probe_measures_without_changing_anything(media: RunningMedia, samples: Samples) -> None:
    staged = await media.stage("spc_1", "var_probe", samples.mp4, "video/mp4")
    probed = await media.bus.request(ProbeMedia(key=staged), timeout=INGEST_TIMEOUT)
    assert (probed.media_kind, probed.mime_type, probed.size_bytes) == (MediaKind.VIDEO, "video/mp4", len(samples.mp4))
    assert (probed.width, probed.height, probed.video_codec, probed.audio_codec) == (320, 240, "h264", "aac")
    assert probed.duration_ms is not None and abs(probed.duration_ms - 2000) <= 60
    assert [key async for key in media.store.list_keys("")] == [staged]

    await media.stage("spc_1", "var_probe", samples.m4a, "audio/mp4")
    sound = await media.bus.request(ProbeMedia(key=staged))
    assert (sound.media_kind, sound.mime_type, sound.width) == (MediaKind.AUDIO, "audio/mp4", None)

    await media.stage("spc_1", "var_probe", samples.jpeg_exif_rotated, "image/jpeg")
    image = await media.bus.request(ProbeMedia(key=staged))
    assert (image.media_kind, image.mime_type, image.width, image.height) == (MediaKind.IMAGE, "image/jpeg", 800, 1200)

    await media.stage("spc_1", "var_probe", samples.elf)
    with pytest.raises(ValidationFailed) as refused:
        await media.bus.request(ProbeMedia(key=staged))
    assert refused.value.details["detected"] == "application/x-executable"


async def test_uploads_are_signed_only_for_staging_keys(media: RunningMedia) -> None:
    with pytest.raises(PermissionDenied):
        await media.bus.request(SignMedia(key="images/spc_1/var_1.png", method=SignMethod.PUT))
    with pytest.raises(ValidationFailed):
        await media.bus.request(SignMedia(key="../etc/passwd", method=SignMethod.GET))
    signed = await media.bus.request(SignMedia(key="staging/spc_1/var_1", method=SignMethod.PUT, expires_seconds=60))
    assert signed.expires_at // 1000 - time.time() == pytest.approx(60, abs=5)
    if media.settings.storage_backend == "s3":
        assert signed.url.startswith(f"http://{media.settings.s3_endpoint}/")
    else:
        assert signed.url.startswith(f"{media.url}/objects/staging/spc_1/var_1?")
