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

The original product's one-step `POST /api/spaces/{spaceId}/upload` (multipart: `file`,
`mediaKind?`, `assetId?` | `assetName` + `assetType`, `parentAssetId?`) is the same three
steps run by the gateway: the form is parsed as it streams in (the file part spools to a
temporary file, never whole in memory), then the placeholder is made, the bytes are PUT to
the staging URL and the media service checks them — one pipeline, the same checks.

Serving checks the caller and their membership first (404 otherwise, also for a variant of
another space), then streams the object through a signed GET URL, passing `Range`/`If-Range`
through and relaying 200/206/416; bytes never ride NATS. With `media_redirect` on it answers
307 to the signed URL after the same checks (a presigned S3 URL, or the media service's own).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated

import aiohttp
from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from yarl import URL

from makefx_bus import Bus
from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied, Unavailable, ValidationFailed
from makefx_contracts.http import FileUploaded, FormFields, StartUpload, UploadCompleted, UploadStarted
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
# The one-step upload's body: the largest media file plus this much for the form's other parts.
FORM_OVERHEAD_BYTES = 64 * 1024
ONE_STEP_UPLOAD_PATH = re.compile(r"^/api/spaces/[^/]+/upload$")
_PUT_CHUNK = 1024 * 1024
_LEGACY_PREFIXES = ("images/", "styles/", "thumbs/")
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


_FORM_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "mediaKind": {"type": "string", "enum": [kind.value for kind in MediaKind]},
                        "assetId": {"type": "string"},
                        "assetName": {"type": "string"},
                        "assetType": {"type": "string"},
                        "parentAssetId": {"type": "string"},
                    },
                }
            }
        },
    }
}


def upload_body_limit(settings: GatewaySettings) -> int:
    """The one-step upload's body cap: the largest file any media kind may be, plus the form around it."""
    return max(settings.max_upload_bytes(kind) for kind in MediaKind) + FORM_OVERHEAD_BYTES


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


class MediaClient:
    """One pooled HTTP client to the byte endpoint (the media service's, or S3's), for the gateway's life.

    A client per request paid a new connection for every Range read of a video; kept-alive
    connections are reused instead. aiohttp rather than httpx: its response parser is C, and
    relaying a video is almost all parsing — about twice the throughput (docs/decisions/0019).
    """

    def __init__(self, max_connections: int = 256) -> None:
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.max_connections),
            timeout=aiohttp.ClientTimeout(total=None, connect=30, sock_connect=30),
            auto_decompress=False,
            headers={"Accept-Encoding": "identity"},  # relayed as stored, never re-encoded on the way
        )

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def open(
        self, method: str, url: str, headers: dict[str, str], data: AsyncIterator[bytes] | None = None
    ) -> aiohttp.ClientResponse:
        """Send a request to a signed URL (taken as is: re-quoting would break an S3 signature)."""
        if self._session is None:
            raise Unavailable("the gateway is not started")
        try:
            return await self._session.request(
                method, URL(url, encoded=True), headers=headers, data=data, allow_redirects=False
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Unavailable("the media service did not answer", details={"reason": str(error)}) from None


class SignedReads:
    """Signed GET URLs by key, reused while more than half their lifetime is left.

    A video is read as many Range requests; signing each one was a NATS round trip to the
    media service per request. The checks (sign-in, membership, the variant) still run on
    every request; only the URL is reused, and never past the expiry it was signed with.
    """

    def __init__(self, bus: Bus, lifetime_seconds: int, *, max_entries: int = 4096) -> None:
        self.bus = bus
        self.lifetime_seconds = lifetime_seconds
        self.max_entries = max_entries
        self._urls: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def url(self, key: str) -> str:
        now = time.time()
        cached = self._urls.get(key)
        if cached is not None and cached[1] > now:
            self._urls.move_to_end(key)
            return cached[0]
        signed = await self.bus.request(
            SignMedia(key=key, method=SignMethod.GET, expires_seconds=self.lifetime_seconds)
        )
        self._urls[key] = (signed.url, now + self.lifetime_seconds / 2)
        self._urls.move_to_end(key)
        while len(self._urls) > self.max_entries:
            self._urls.popitem(last=False)
        return signed.url


def media_router(
    settings: GatewaySettings,
    spaces: Spaces,
    bus: Bus,
    router: SpaceRouter,
    credentials: Credentials,
    media: MediaClient,
):
    api = APIRouter(prefix="/api", tags=["media"], generate_unique_id_function=operation_id)
    reads = SignedReads(bus, settings.media_url_seconds)
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
        finished = await finish(space_id, variant, actor, recipe)
        return finished if isinstance(finished, Response) else UploadCompleted(variant=finished)

    @api.post(
        "/spaces/{spaceId}/upload",
        status_code=status.HTTP_201_CREATED,
        response_model=FileUploaded,
        openapi_extra=_FORM_SCHEMA,
    )
    async def upload_file(space_id: SpaceId, request: Request, who: Principal = caller) -> FileUploaded | Response:
        # Who may upload is settled before a byte of the body is read.
        actor = Actor(user_id=who.user_id, role=await role(space_id, who))
        if not actor.role.can_edit:
            raise PermissionDenied("viewers cannot upload", details={"spaceId": space_id, "role": actor.role.value})
        try:
            form = await request.form(max_files=1, max_fields=16, max_part_size=64 * 1024)
        except HTTPException as error:
            if error.status_code != 400:
                raise  # the body cap (413) answers for itself
            raise ValidationFailed(f"the body is not a valid multipart form: {error.detail}") from None
        try:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise ValidationFailed("the form has no `file` part", details={"field": "file"})
            fields = FormFields.model_validate(
                {name: value for name, value in form.multi_items() if isinstance(value, str) and value}
            )
            filename = (file.filename or "upload")[:255]
            content_type = (file.content_type or "application/octet-stream")[:255]
            kind = fields.media_kind or media_kind_of(content_type)
            size = file.size or 0
            limit = settings.max_upload_bytes(kind)
            if size > limit:
                return _too_large(kind, size, limit)
            if size == 0:
                raise ValidationFailed(f"{filename} is empty", details={"filename": filename})
            applied = await router.request(
                space_id,
                CreateUpload(
                    space_id=space_id,
                    request_id=request_id(),
                    actor=actor,
                    filename=filename,
                    content_type=content_type,
                    size_bytes=size,
                    media_kind=kind,
                    asset_id=fields.asset_id,
                    name=fields.asset_name,
                    asset_type=fields.asset_type,
                    parent_asset_id=fields.parent_asset_id,
                ),
            )
            variant = next(event.variant for event in applied.events if event.type == "variant:created")
            asset = next((event.asset for event in applied.events if event.type == "asset:created"), None)
            recipe = json.loads(variant.recipe)
            refused = await stage(space_id, variant, actor, recipe, file)
        finally:
            await form.close()
        if refused is not None:
            return refused
        finished = await finish(space_id, variant, actor, recipe)
        if isinstance(finished, Response):
            return finished
        return FileUploaded(variant=finished, asset=asset)

    async def stage(
        space_id: str, variant: VariantRow, actor: Actor, recipe: dict, file: UploadFile
    ) -> Response | None:
        """PUT the spooled file to the variant's staging URL, as a browser would; a refusal fails the upload."""
        signed = await bus.request(
            SignMedia(
                key=staging_key(space_id, variant.id),
                method=SignMethod.PUT,
                expires_seconds=settings.upload_url_seconds,
            )
        )

        async def chunks() -> AsyncIterator[bytes]:
            await file.seek(0)
            while chunk := await file.read(_PUT_CHUNK):
                yield chunk

        headers = {**signed.headers, "Content-Type": recipe["contentType"], "Content-Length": str(recipe["sizeBytes"])}
        try:
            answer = await media.open("PUT", signed.url, headers, data=chunks())
        except Unavailable:
            await fail(space_id, variant.id, actor, recipe, "the media service did not take the bytes")
            raise
        answer.release()
        if answer.status == 200:
            return None
        if answer.status == 413:
            limit = settings.max_upload_bytes(variant.media_kind)
            reason = await fail(space_id, variant.id, actor, recipe, f"larger than {limit} bytes")
            return error_response(413, ValidationFailed.code, reason, {"maxBytes": limit})
        await fail(space_id, variant.id, actor, recipe, "the media service refused the bytes")
        raise Unavailable("the media service refused the bytes", details={"status": answer.status})

    async def finish(space_id: str, variant: VariantRow, actor: Actor, recipe: dict) -> VariantRow | Response:
        """Have the media service check the staged bytes by content, then complete or fail the variant."""
        variant_id = variant.id
        ingest = IngestMedia(
            space_id=space_id,
            variant_id=variant_id,
            media_kind=variant.media_kind,
            declared_content_type=recipe.get("contentType"),
        )
        try:
            media_file = await bus.request(ingest, timeout=settings.ingest_timeout_seconds)
        except NotFound:
            raise InvalidState(
                f"no bytes were uploaded for variant {variant_id} yet: PUT them to the upload URL first",
                details={"variantId": variant_id},
            ) from None
        except ValidationFailed as error:
            reason = await fail(space_id, variant_id, actor, recipe, error.message)
            status_code = 413 if "too large" in error.message.lower() or "larger" in error.message.lower() else 422
            return error_response(status_code, error.code, reason, error.details)
        completed = CompletedMedia.model_validate(
            media_file.model_dump(exclude={"type", "space_id", "variant_id", "media_kind"})
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
        return done or await variant_of(space_id, variant_id)

    async def fail(space_id: str, variant_id: str, actor: Actor, recipe: dict, why: str) -> str:
        """Fail the upload's variant with `"<filename>: <why>"`, and return that reason."""
        reason = f"{recipe.get('filename', 'the file')}: {why}"[:2000]
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
        return reason

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
        signed_url = await reads.url(key)
        if settings.media_redirect:
            return RedirectResponse(signed_url, status_code=307, headers={"Cache-Control": "private, no-store"})
        forwarded = {name: request.headers[name] for name in ("range", "if-range") if name in request.headers}
        upstream = await media.open(request.method, signed_url, forwarded)
        if upstream.status not in (200, 206, 416):
            upstream.release()
            if upstream.status == 404:
                raise NotFound("the media is not stored", details={"key": key})
            raise Unavailable("the media service refused the read", details={"status": upstream.status})
        headers = {name: upstream.headers[name] for name in _RELAYED if name in upstream.headers}
        headers["X-Content-Type-Options"] = "nosniff"
        if upstream.status != 416:
            headers["Cache-Control"] = IMMUTABLE

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.content.iter_any():
                    yield chunk
            finally:
                upstream.release()

        if request.method == "HEAD":
            upstream.release()
            return Response(status_code=upstream.status, headers=headers)
        return StreamingResponse(body(), status_code=upstream.status, headers=headers)

    def _too_large(kind: MediaKind, size: int, limit: int) -> Response:
        return error_response(
            413,
            ValidationFailed.code,
            f"a {kind.value} upload may be at most {limit} bytes; this one is {size}",
            {"maxBytes": limit, "sizeBytes": size, "mediaKind": kind.value},
        )

    return api
