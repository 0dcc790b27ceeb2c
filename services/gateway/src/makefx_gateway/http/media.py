"""Uploads and the media routes: a variant's bytes, poster and thumbnail, and the legacy `/api/images/{key}`.

Uploads are two calls and a PUT:

1. `POST /api/spaces/{spaceId}/uploads {filename, contentType, sizeBytes, mediaKind?, assetId? | name…}`
   makes the placeholder variant (`uploading`) on the space's owner and answers a short-lived
   signed URL (`uploadUrl`, `headers`, `expiresAt`) to PUT the bytes to.
2. The client PUTs the bytes there (the media service's byte endpoint, or S3 directly).
3. `POST /api/spaces/{spaceId}/uploads/{variantId}/complete` has the media service check the
   bytes by content and size and make the thumbnail/poster; the variant is then completed, or
   failed with the reason (a `.png` that is an executable names what it really is).

An upload never completed is failed by the owner's sweep after `upload_expiry_seconds`.

Serving checks the caller and their membership first (404 otherwise, also for a variant of
another space), then streams the object through a signed GET URL, passing `Range`/`If-Range`
through and relaying 200/206/416; bytes never ride NATS. With `media_redirect` on (an S3
store that signs URLs itself) it answers 307 to the signed URL after the same checks.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import Field

from makefx_bus import Bus
from makefx_contracts.base import Model
from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied, Unavailable, ValidationFailed
from makefx_contracts.identity import Role
from makefx_contracts.media import IngestMedia, SignMedia, SignMethod
from makefx_contracts.rows import MediaKind, VariantRow, VariantStatus
from makefx_contracts.space import (
    Actor,
    CompletedMedia,
    CompleteVariant,
    CreateUpload,
    FailVariant,
    GetVariant,
    Position,
)
from makefx_gateway.errors import error_response
from makefx_gateway.http.security import Credentials, operation_id
from makefx_gateway.service import Principal, Spaces
from makefx_gateway.settings import GatewaySettings
from makefx_router import SpaceRouter

SpaceId = Annotated[str, Path(alias="spaceId", max_length=64)]
VariantId = Annotated[str, Path(alias="variantId", max_length=128)]

IMMUTABLE = "private, max-age=31536000, immutable"
# Headers of the byte endpoint's answer the client needs to see.
_RELAYED = ("content-type", "content-length", "content-range", "etag", "last-modified", "accept-ranges")
_LEGACY_PREFIXES = ("images/", "styles/", "thumbs/")
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class StartUpload(Model):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=255)
    size_bytes: int = Field(ge=1)
    media_kind: MediaKind | None = Field(default=None, description="default: from contentType")
    asset_id: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    asset_type: str = Field(default="upload", min_length=1, max_length=40)
    parent_asset_id: str | None = None
    position: Position | None = None


class UploadStarted(Model):
    variant_id: str
    asset_id: str
    upload_url: str
    headers: dict[str, str]
    expires_at: int = Field(description="milliseconds since the epoch")


class UploadCompleted(Model):
    variant: VariantRow


def staging_key(space_id: str, variant_id: str) -> str:
    """Where the media service expects an upload's bytes (its `IngestMedia` default source)."""
    return f"staging/{space_id}/{variant_id}"


def legacy_key(key: str) -> str:
    """`key` if it is a plain `images/`, `styles/` or `thumbs/` key; NotFound for anything else (traversal…)."""
    segments = key.split("/")
    if (
        not key.startswith(_LEGACY_PREFIXES)
        or len(key) > 1024
        or len(segments) < 2
        or not all(_SAFE_SEGMENT.match(segment) and ".." not in segment for segment in segments)
    ):
        raise NotFound("no such image", details={"key": key[:200]})
    return key


def media_kind_of(content_type: str) -> MediaKind:
    for kind in MediaKind:
        if content_type.lower().startswith(f"{kind.value}/"):
            return kind
    raise ValidationFailed(
        f"{content_type} is not an image, audio or video type", details={"contentType": content_type}
    )


def media_router(settings: GatewaySettings, spaces: Spaces, bus: Bus, router: SpaceRouter, credentials: Credentials):
    api = APIRouter(prefix="/api", tags=["media"], generate_unique_id_function=operation_id)
    caller = Depends(credentials.principal)

    async def role(space_id: str, who: Principal) -> Role:
        found = await spaces.role_of(space_id, who.user_id)
        if found is None:
            raise NotFound(f"space {space_id} does not exist", details={"spaceId": space_id})
        return found

    async def variant_of(space_id: str, variant_id: str) -> VariantRow:
        return (await router.request(space_id, GetVariant(space_id=space_id, variant_id=variant_id))).variant

    def request_id() -> str:
        return f"http-{uuid.uuid4().hex}"

    # -- uploads -----------------------------------------------------------------------

    @api.post("/spaces/{spaceId}/uploads", status_code=status.HTTP_201_CREATED)
    async def start_upload(space_id: SpaceId, body: StartUpload, who: Principal = caller) -> UploadStarted:
        actor = Actor(user_id=who.user_id, role=await role(space_id, who))
        kind = body.media_kind or media_kind_of(body.content_type)
        limit = settings.max_upload_bytes(kind)
        if body.size_bytes > limit:
            return _too_large(kind, body.size_bytes, limit)
        fields = body.model_dump(exclude={"media_kind"})
        applied = await router.request(
            space_id,
            CreateUpload(space_id=space_id, request_id=request_id(), actor=actor, media_kind=kind, **fields),
        )
        variant = next(event.variant for event in applied.events if event.type == "variant:created")
        signed = await bus.request(
            SignMedia(
                key=staging_key(space_id, variant.id),
                method=SignMethod.PUT,
                expires_seconds=settings.upload_url_seconds,
            )
        )
        return UploadStarted(
            variant_id=variant.id,
            asset_id=variant.asset_id,
            upload_url=signed.url,
            headers=signed.headers,
            expires_at=signed.expires_at,
        )

    @api.post("/spaces/{spaceId}/uploads/{variantId}/complete", response_model=None)
    async def complete_upload(
        space_id: SpaceId, variant_id: VariantId, who: Principal = caller
    ) -> UploadCompleted | Response:
        actor = Actor(user_id=who.user_id, role=await role(space_id, who))
        if not actor.role.can_edit:
            raise PermissionDenied("viewers cannot upload", details={"spaceId": space_id, "role": actor.role.value})
        variant = await variant_of(space_id, variant_id)
        if variant.status is VariantStatus.COMPLETED:
            return UploadCompleted(variant=variant)
        if variant.status is not VariantStatus.UPLOADING:
            raise InvalidState(
                f"variant {variant_id} is {variant.status.value}, not an upload waiting for its bytes",
                details={"variantId": variant_id, "status": variant.status.value, "error": variant.error_message},
            )
        recipe = json.loads(variant.recipe)
        if recipe.get("operation") != "upload":
            raise InvalidState(f"variant {variant_id} is not an upload", details={"variantId": variant_id})
        ingest = IngestMedia(
            space_id=space_id,
            variant_id=variant_id,
            media_kind=variant.media_kind,
            declared_content_type=recipe.get("contentType"),
        )
        try:
            media = await bus.request(ingest, timeout=settings.ingest_timeout_seconds)
        except NotFound:
            raise InvalidState(
                f"no bytes were uploaded for variant {variant_id} yet: PUT them to the upload URL first",
                details={"variantId": variant_id},
            ) from None
        except ValidationFailed as error:
            reason = f"{recipe.get('filename', 'the file')}: {error.message}"[:2000]
            await router.request(
                space_id,
                FailVariant(
                    space_id=space_id,
                    request_id=f"{variant_id}:upload-failed",
                    actor=actor,
                    variant_id=variant_id,
                    attempt=1,
                    error_message=reason,
                ),
            )
            status_code = 413 if "too large" in error.message.lower() or "larger" in error.message.lower() else 422
            return error_response(status_code, error.code, reason, error.details)
        completed = CompletedMedia.model_validate(
            media.model_dump(exclude={"type", "space_id", "variant_id", "media_kind"})
        )
        applied = await router.request(
            space_id,
            CompleteVariant(
                space_id=space_id,
                request_id=f"{variant_id}:upload-completed",
                actor=actor,
                variant_id=variant_id,
                attempt=1,
                media=completed,
            ),
        )
        done = next((e.variant for e in applied.events if e.type == "variant:updated"), None)
        return UploadCompleted(variant=done or await variant_of(space_id, variant_id))

    # -- serving -----------------------------------------------------------------------

    async def serve(space_id: str, variant_id: str, which: str, request: Request, who: Principal) -> Response:
        await role(space_id, who)
        variant = await variant_of(space_id, variant_id)
        key = {
            "media": variant.media_key or variant.image_key,
            "poster": variant.poster_key,
            "thumb": variant.thumb_key,
        }[which]
        if not key:
            raise NotFound(f"variant {variant_id} has no {which}", details={"variantId": variant_id})
        return await _proxy(key, request)

    @api.get("/spaces/{spaceId}/variants/{variantId}/media", response_model=None)
    @api.head("/spaces/{spaceId}/variants/{variantId}/media", response_model=None, include_in_schema=False)
    async def variant_media(space_id: SpaceId, variant_id: VariantId, request: Request, who: Principal = caller):
        return await serve(space_id, variant_id, "media", request, who)

    @api.get("/spaces/{spaceId}/variants/{variantId}/poster", response_model=None)
    @api.head("/spaces/{spaceId}/variants/{variantId}/poster", response_model=None, include_in_schema=False)
    async def variant_poster(space_id: SpaceId, variant_id: VariantId, request: Request, who: Principal = caller):
        return await serve(space_id, variant_id, "poster", request, who)

    @api.get("/spaces/{spaceId}/variants/{variantId}/thumb", response_model=None)
    @api.head("/spaces/{spaceId}/variants/{variantId}/thumb", response_model=None, include_in_schema=False)
    async def variant_thumb(space_id: SpaceId, variant_id: VariantId, request: Request, who: Principal = caller):
        return await serve(space_id, variant_id, "thumb", request, who)

    @api.get("/images/{key:path}", response_model=None)
    @api.head("/images/{key:path}", response_model=None, include_in_schema=False)
    async def legacy_image(key: str, request: Request, who: Principal = caller):
        key = legacy_key(key)
        parts = key.split("/")
        if parts[0] == "images" and len(parts) >= 3:
            await role(parts[1], who)  # images/{spaceId}/…: members of that space only
        return await _proxy(key, request)

    async def _proxy(key: str, request: Request) -> Response:
        signed = await bus.request(
            SignMedia(key=key, method=SignMethod.GET, expires_seconds=settings.media_url_seconds)
        )
        if settings.media_redirect:
            return RedirectResponse(signed.url, status_code=307, headers={"Cache-Control": "private, no-store"})
        forwarded = {name: request.headers[name] for name in ("range", "if-range") if name in request.headers}
        client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None))
        try:
            upstream = await client.send(
                client.build_request(request.method, signed.url, headers=forwarded), stream=True
            )
        except httpx.HTTPError as error:
            await client.aclose()
            raise Unavailable("the media service did not answer", details={"reason": str(error)}) from None
        if upstream.status_code not in (200, 206, 416):
            await upstream.aclose()
            await client.aclose()
            if upstream.status_code == 404:
                raise NotFound("the media is not stored", details={"key": key})
            raise Unavailable("the media service refused the read", details={"status": upstream.status_code})
        headers = {name: upstream.headers[name] for name in _RELAYED if name in upstream.headers}
        headers["X-Content-Type-Options"] = "nosniff"
        if upstream.status_code != 416:
            headers["Cache-Control"] = IMMUTABLE

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_raw():
                    yield chunk
            finally:
                await upstream.aclose()
                await client.aclose()

        if request.method == "HEAD":
            await upstream.aclose()
            await client.aclose()
            return Response(status_code=upstream.status_code, headers=headers)
        return StreamingResponse(body(), status_code=upstream.status_code, headers=headers)

    def _too_large(kind: MediaKind, size: int, limit: int) -> Response:
        return error_response(
            413,
            ValidationFailed.code,
            f"a {kind.value} upload may be at most {limit} bytes; this one is {size}",
            {"maxBytes": limit, "sizeBytes": size, "mediaKind": kind.value},
        )

    return api
