"""The media use cases: ingest, probe, delete and sign, over the `ObjectStore` port.

Decoding and encoding run in worker threads (at most `processing_concurrency` files at
once) so the event loop keeps answering while a video is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from makefx_contracts.errors import PermissionDenied, ValidationFailed
from makefx_contracts.media import (
    DeleteVariantMedia,
    IngestMedia,
    MediaIngested,
    MediaProbed,
    ProbeMedia,
    SignedUrl,
    SignMedia,
    SignMethod,
    VariantMediaDeleted,
)
from makefx_contracts.rows import MediaKind
from makefx_media import audiovideo, domain, imaging
from makefx_media.errors import MediaTooLarge, UndecodableMedia, UnsupportedMedia
from makefx_media.settings import MediaSettings
from makefx_media.signing import UrlSigner
from makefx_storage import ByteRange, ObjectInfo, ObjectNotFound, ObjectStore
from makefx_storage import keys as object_keys

log = logging.getLogger(__name__)

T = TypeVar("T")

WEBP = "image/webp"


@dataclass(frozen=True)
class _Measured:
    """One file measured, and the derived artifact made on the way (thumbnail or poster)."""

    media_type: domain.MediaType
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    derived: imaging.Thumbnail | None = None


class MediaService:
    def __init__(
        self,
        store: ObjectStore,
        settings: MediaSettings,
        signer: UrlSigner | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.signer = signer
        self.clock = clock
        self._processing = asyncio.Semaphore(settings.processing_concurrency)

    # -- ingest ------------------------------------------------------------------

    async def ingest(self, request: IngestMedia) -> MediaIngested:
        staged = object_keys.staging_key(request.space_id, request.variant_id)
        source = request.source_key or staged
        derived = {
            object_keys.thumb_key(request.space_id, request.variant_id),
            object_keys.poster_key(request.space_id, request.variant_id),
        }
        if source != staged and (
            source in derived or not object_keys.belongs_to_variant(source, request.space_id, request.variant_id)
        ):
            raise ValidationFailed(
                "sourceKey must be the variant's staging key or its own media key",
                details={"sourceKey": source, "stagingKey": staged},
            )
        try:
            info = await self.store.stat(source)
        except ObjectNotFound:
            # A repeated ingest: the first one already moved the bytes to their final key.
            done = await self._main_key(request) if source == staged else None
            if done is None:
                raise
            source, info = done, await self.store.stat(done)
        try:
            return await self._ingest(request, source, info)
        except (UnsupportedMedia, MediaTooLarge, UndecodableMedia):
            if source == staged:
                # Refused bytes do not stay in the bucket.
                await self.store.delete(staged)
            raise

    async def _ingest(self, request: IngestMedia, source: str, info: ObjectInfo) -> MediaIngested:
        kind = request.media_kind
        limit = self.settings.max_bytes(kind)
        if info.size > limit:
            raise MediaTooLarge(kind=kind, size=info.size, limit=limit)
        sniffed = domain.sniff(await self._head(source, info))
        media_type = domain.accept(kind, sniffed, request.declared_content_type)
        measured = await self._measure(source, kind, media_type)

        space_id, variant_id = request.space_id, request.variant_id
        extension = measured.media_type.extension
        main_key = _file_key(kind, space_id, variant_id, extension)
        if kind is MediaKind.IMAGE:
            derived_key: str | None = object_keys.thumb_key(space_id, variant_id)
        else:
            derived_key = object_keys.poster_key(space_id, variant_id) if kind is MediaKind.VIDEO else None
        # The thumbnail and the move go side by side: nothing reads these keys before the variant
        # completes, and an ingest repeated after a crash between them finds the main object and
        # derives anew. Each error comes out as itself (an `FxError` keeps its code).
        writes = [self.store.move(source, main_key, content_type=measured.media_type.mime)]
        if derived_key is not None and measured.derived is not None:
            writes.append(self.store.put(derived_key, measured.derived.webp, content_type=WEBP))
        moved, *_ = await _all_or_first_error(writes)
        # Only once the source has moved: re-ingesting a variant's own file under its true type
        # (`v.png` that is a JPEG) names the source among the stale keys.
        await self._remove_replaced(space_id, variant_id, keep={main_key, derived_key})
        return MediaIngested(
            space_id=space_id,
            variant_id=variant_id,
            media_kind=kind,
            media_key=main_key,
            image_key=main_key if kind is MediaKind.IMAGE else None,
            thumb_key=derived_key if kind is MediaKind.IMAGE else None,
            poster_key=derived_key if kind is MediaKind.VIDEO else None,
            mime_type=measured.media_type.mime,
            size_bytes=moved.size,
            width=measured.width,
            height=measured.height,
            duration_ms=measured.duration_ms,
        )

    async def _main_key(self, request: IngestMedia) -> str | None:
        folder = "images" if request.media_kind is MediaKind.IMAGE else "media"
        async for key in self.store.list_keys(f"{folder}/{request.space_id}/{request.variant_id}."):
            if object_keys.belongs_to_variant(key, request.space_id, request.variant_id):
                return key
        return None

    async def _remove_replaced(self, space_id: str, variant_id: str, *, keep: set[str | None]) -> None:
        """A re-upload of another type leaves no stale file of the old one (`v1.png` after `v1.jpg`).

        The variant's possible keys are few and known, so they are deleted by name (missing ones
        are no-ops): no listing of the space's folder, whose size grows with the space.
        """
        await self.store.delete_many(sorted(_stored_keys(space_id, variant_id) - keep))

    # -- probe -------------------------------------------------------------------

    async def probe(self, request: ProbeMedia) -> MediaProbed:
        object_keys.check_key(request.key)
        info = await self.store.stat(request.key)
        sniffed = domain.sniff(await self._head(request.key, info))
        if sniffed.type is None:
            raise UnsupportedMedia(kind=None, detected=sniffed.detected, allowed=domain.allowed_mimes())
        media_type = sniffed.type
        if media_type.kind is MediaKind.IMAGE:
            async with self._local_copy(request.key) as path:
                picture = await self._in_thread(imaging.measure_image, path, max_pixels=self.settings.max_image_pixels)
            domain.check_decoder(media_type, picture.format)
            return MediaProbed(
                key=request.key,
                media_kind=MediaKind.IMAGE,
                mime_type=media_type.mime,
                size_bytes=info.size,
                width=picture.width,
                height=picture.height,
            )
        async with self._local_copy(request.key) as path:
            recording = await self._in_thread(
                audiovideo.measure_recording, path, max_pixels=self.settings.max_image_pixels
            )
        domain.check_decoder(media_type, recording.format)
        kind = domain.kind_of_streams(media_type, has_video=recording.has_video)
        media_type = domain.video_type_of(media_type) if kind is MediaKind.VIDEO else domain.audio_type_of(media_type)
        return MediaProbed(
            key=request.key,
            media_kind=kind,
            mime_type=media_type.mime,
            size_bytes=info.size,
            width=recording.width,
            height=recording.height,
            duration_ms=recording.duration_ms,
            video_codec=recording.video_codec,
            audio_codec=recording.audio_codec,
        )

    # -- delete ------------------------------------------------------------------

    async def delete_variant(self, request: DeleteVariantMedia) -> VariantMediaDeleted:
        found = [
            key
            for prefix in object_keys.variant_prefixes(request.space_id, request.variant_id)
            async for key in self.store.list_keys(prefix)
            if object_keys.belongs_to_variant(key, request.space_id, request.variant_id)
        ]
        await self.store.delete_many(found)
        return VariantMediaDeleted(space_id=request.space_id, variant_id=request.variant_id, deleted_keys=found)

    # -- sign --------------------------------------------------------------------

    async def sign(self, request: SignMedia) -> SignedUrl:
        key = object_keys.check_key(request.key)
        if request.method is SignMethod.PUT and not object_keys.is_staging_key(key):
            raise PermissionDenied(
                "uploads go to a staging key; ingest files them under their final key", details={"key": key}
            )
        now = self.clock()
        expires = int(now) + request.expires_seconds
        url: str | None = None
        if self.settings.media_direct_urls:
            lifetime = timedelta(seconds=request.expires_seconds)
            if request.method is SignMethod.PUT:
                url = await self.store.presigned_put(key, lifetime)
            else:
                url = await self.store.presigned_get(key, lifetime)
        if url is None:
            if self.signer is None:
                raise ValidationFailed("this media service has no signing secret for its own URLs")
            url = self.signer.url(request.method, key, expires)
        return SignedUrl(key=key, method=request.method, url=url, expires_at=expires * 1000)

    # -- measuring ---------------------------------------------------------------

    async def _head(self, key: str, info: ObjectInfo) -> bytes:
        if info.size == 0:
            return b""
        async with await self.store.get(key, byte_range=ByteRange(0, domain.SNIFF_BYTES - 1)) as stream:
            return await stream.read()

    async def _measure(self, key: str, kind: MediaKind, media_type: domain.MediaType) -> _Measured:
        """Decode the file (proving it decodes), measure it and make its thumbnail or poster."""
        settings = self.settings
        async with self._local_copy(key) as path:
            if kind is MediaKind.IMAGE:
                picture, thumbnail = await self._in_thread(
                    imaging.thumbnail_image,
                    path,
                    max_side=settings.thumbnail_max_side,
                    max_pixels=settings.max_image_pixels,
                    quality=settings.webp_quality,
                )
                domain.check_decoder(media_type, picture.format)
                return _Measured(media_type, picture.width, picture.height, None, thumbnail)
            if kind is MediaKind.VIDEO:
                recording, poster = await self._in_thread(
                    audiovideo.poster_frame,
                    path,
                    at_seconds=settings.poster_at_seconds,
                    max_side=settings.poster_max_side,
                    max_pixels=settings.max_image_pixels,
                    quality=settings.webp_quality,
                )
            else:
                recording = await self._in_thread(
                    audiovideo.measure_recording, path, max_pixels=settings.max_image_pixels
                )
                poster = None
        domain.check_decoder(media_type, recording.format)
        media_type = domain.settle(kind, media_type, has_video=recording.has_video, has_audio=recording.has_audio)
        return _Measured(media_type, recording.width, recording.height, recording.duration_ms, poster)

    async def _in_thread(self, work: Callable[..., T], *args: object, **kwargs: object) -> T:
        async with self._processing:
            return await asyncio.to_thread(work, *args, **kwargs)

    @contextlib.asynccontextmanager
    async def _local_copy(self, key: str) -> AsyncIterator[Path]:
        """A file with the object's bytes: the store's own file when it is local, else a temporary copy."""
        local = self.store.local_path(key)
        if local is not None:
            yield local
            return
        directory = self.settings.work_directory
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix="media-") as temporary:
            path = Path(temporary) / "object"
            async with await self.store.get(key) as stream:
                file = await asyncio.to_thread(open, path, "wb")
                try:
                    async for chunk in stream:
                        await asyncio.to_thread(file.write, chunk)
                finally:
                    file.close()
            yield path


async def _all_or_first_error(work: list[Awaitable[T]]) -> list[T]:
    """Run `work` together to the end of each; their results, or the first error raised."""
    results = await asyncio.gather(*work, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return typing.cast(list[T], results)


def _stored_keys(space_id: str, variant_id: str) -> set[str]:
    """Every key ingest may file a variant's objects under: its file as any accepted type, thumbnail, poster."""
    keys = {
        object_keys.thumb_key(space_id, variant_id),
        object_keys.poster_key(space_id, variant_id),
    }
    for kind, types in domain.ALLOWED.items():
        keys.update(_file_key(kind, space_id, variant_id, media_type.extension) for media_type in types)
    return keys


def _file_key(kind: MediaKind, space_id: str, variant_id: str, extension: str) -> str:
    """The seed's key of a variant's file: `images/…` for an image, `media/…` for audio and video."""
    file_key = object_keys.image_key if kind is MediaKind.IMAGE else object_keys.media_key
    return file_key(space_id, variant_id, extension)
