"""Requests the media service answers (`fx.media.*`): ingest, probe, sign, delete.

Bytes never ride the bus: they reach the store through a signed URL (a browser or a
worker PUTs to `staging/{spaceId}/{variantId}`), and these messages only name keys.
Ingest checks the bytes by content, moves them to the seed's key and makes the derived
artifacts (an image's thumbnail, a video's poster); its reply carries exactly the
`variants` columns the space-state owner then records.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from makefx_contracts.base import Message, Request, Subject
from makefx_contracts.rows import MediaKind
from makefx_contracts.subjects import MEDIA

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
ObjectKey = Annotated[str, Field(min_length=1, max_length=1024)]


class MediaIngested(Message):
    """A variant's media, checked and in place: the keys and facts for its `variants` row."""

    type: Literal["media:ingested"] = "media:ingested"
    space_id: str
    variant_id: str
    media_kind: MediaKind
    media_key: str = Field(description="the canonical artifact; for images the same key as imageKey")
    image_key: str | None = Field(default=None, description="images only: images/{spaceId}/{variantId}.{ext}")
    thumb_key: str | None = Field(default=None, description="images only: a WebP of at most 512 px a side")
    poster_key: str | None = Field(default=None, description="video only: a WebP frame from about 1 s in")
    mime_type: str = Field(description="the type found in the bytes, never the one declared")
    size_bytes: int = Field(ge=0)
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None


class IngestMedia(Request[MediaIngested]):
    """Check a variant's staged bytes by content and file them under the seed's keys.

    Refused with `VALIDATION_ERROR` (naming the detected type in `details.detected`)
    when the bytes are not an allowed type of `mediaKind`, are too large, or do not
    decode. Repeating a successful ingest answers the same without redoing it.
    """

    type: Literal["media:ingest"] = "media:ingest"
    subject: ClassVar[Subject] = MEDIA.bind(op="ingest")
    space_id: Id
    variant_id: Id
    media_kind: MediaKind
    source_key: ObjectKey | None = Field(
        default=None,
        description="where the bytes are; default staging/{spaceId}/{variantId}; the variant's own key re-ingests",
    )
    declared_content_type: str | None = Field(default=None, max_length=255)


class MediaProbed(Message):
    """What an object is, found from its bytes."""

    type: Literal["media:probed"] = "media:probed"
    key: str
    media_kind: MediaKind
    mime_type: str
    size_bytes: int = Field(ge=0)
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None


class ProbeMedia(Request[MediaProbed]):
    """Sniff and measure a stored object without changing anything."""

    type: Literal["media:probe"] = "media:probe"
    subject: ClassVar[Subject] = MEDIA.bind(op="probe")
    key: ObjectKey


class VariantMediaDeleted(Message):
    type: Literal["media:variantDeleted"] = "media:variantDeleted"
    space_id: str
    variant_id: str
    deleted_keys: list[str] = Field(default_factory=list)


class DeleteVariantMedia(Request[VariantMediaDeleted]):
    """Remove every object of a variant: its media, thumbnail, poster and staged bytes (idempotent)."""

    type: Literal["media:deleteVariant"] = "media:deleteVariant"
    subject: ClassVar[Subject] = MEDIA.bind(op="delete")
    space_id: Id
    variant_id: Id


class SignMethod(StrEnum):
    GET = "GET"
    PUT = "PUT"


class SignedUrl(Message):
    """A URL that lets its holder GET or PUT one object until `expiresAt`, with the headers to send."""

    type: Literal["media:signedUrl"] = "media:signedUrl"
    key: str
    method: SignMethod
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    expires_at: int = Field(description="milliseconds since the epoch")


class SignMedia(Request[SignedUrl]):
    """Sign a URL for one object: GET for any key, PUT only for a staging key."""

    type: Literal["media:sign"] = "media:sign"
    subject: ClassVar[Subject] = MEDIA.bind(op="sign")
    key: ObjectKey
    method: SignMethod = SignMethod.GET
    expires_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600)
