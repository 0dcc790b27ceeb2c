"""The byte endpoint: `GET`/`HEAD` (with `Range`) and `PUT` of one object, by signed URL only.

It behaves like a presigned S3 URL, so a browser or worker uploads and downloads the
same way whichever backend holds the bytes: `PUT` answers 200 with an `ETag`, `GET`
answers 200 or 206 (`416` past the end), a bad or expired signature 403.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from makefx_contracts.errors import ErrorCode, FxError, PermissionDenied
from makefx_contracts.media import SignMethod
from makefx_media.signing import OBJECTS_PATH, UrlSigner
from makefx_storage import ObjectStore, ObjectTooLarge, RangeNotSatisfiable, parse_range
from makefx_storage import keys as object_keys

_STATUS = {
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.UNAVAILABLE: 503,
}
# Served bytes are data, never a page: no sniffing, no scripts, even for a staged upload.
_SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
_STORED_TYPES = ("image/", "audio/", "video/")


def byte_router(
    store: ObjectStore,
    signer: UrlSigner,
    *,
    max_upload_bytes: int,
    clock: Callable[[], float] = time.time,
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route(OBJECTS_PATH + "{key:path}", methods=["GET", "HEAD"])
    async def download(key: str, request: Request) -> Response:
        try:
            expires = _verify(signer, SignMethod.GET, key, request, clock)
            info = await store.stat(key)
            byte_range = parse_range(request.headers.get("range"), info.size)
            if byte_range is not None and not _if_range_matches(request, info.etag):
                byte_range = None
        except RangeNotSatisfiable as error:
            return _error(error, headers={"Content-Range": f"bytes */{error.size}"})
        except FxError as error:
            return _error(error)
        headers = {
            **_SAFE_HEADERS,
            "Accept-Ranges": "bytes",
            "ETag": f'"{info.etag}"',
            "Last-Modified": format_datetime(info.modified, usegmt=True),
            "Cache-Control": f"private, max-age={max(0, expires - int(clock()))}",
            "Content-Length": str(byte_range.length if byte_range else info.size),
        }
        status = 200
        if byte_range is not None:
            status = 206
            headers["Content-Range"] = byte_range.content_range(info.size)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=info.content_type)
        try:
            stream = await store.get(key, byte_range=byte_range)
        except RangeNotSatisfiable as error:
            return _error(error, headers={"Content-Range": f"bytes */{error.size}"})
        except FxError as error:
            return _error(error)

        async def body() -> AsyncIterator[bytes]:
            async with stream:
                async for chunk in stream:
                    yield chunk

        return StreamingResponse(body(), status_code=status, headers=headers, media_type=info.content_type)

    @router.put(OBJECTS_PATH + "{key:path}")
    async def upload(key: str, request: Request) -> Response:
        try:
            _verify(signer, SignMethod.PUT, key, request, clock)
            if not object_keys.is_staging_key(key):
                raise PermissionDenied("uploads go to a staging key", details={"key": key})
            declared_length = request.headers.get("content-length")
            if declared_length and declared_length.isdigit() and int(declared_length) > max_upload_bytes:
                raise ObjectTooLarge(max_upload_bytes)
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if not content_type.startswith(_STORED_TYPES) or content_type == "image/svg+xml":
                content_type = "application/octet-stream"
            info = await store.put(key, request.stream(), content_type=content_type, max_bytes=max_upload_bytes)
        except FxError as error:
            return _error(error)
        return Response(status_code=200, headers={"ETag": f'"{info.etag}"'})

    return router


def _verify(signer: UrlSigner, method: SignMethod, key: str, request: Request, clock: Callable[[], float]) -> int:
    object_keys.check_key(key)
    return signer.verify(
        method, key, request.query_params.get("expires"), request.query_params.get("signature"), clock()
    )


def _if_range_matches(request: Request, etag: str) -> bool:
    """`If-Range` with a stale ETag means: send the whole (new) object instead of a range of it."""
    condition = request.headers.get("if-range")
    return condition is None or condition.strip() == f'"{etag}"'


def _error(error: FxError, headers: dict[str, str] | None = None) -> JSONResponse:
    if isinstance(error, RangeNotSatisfiable):
        status = 416
    elif isinstance(error, ObjectTooLarge):
        status = 413
    else:
        status = _STATUS.get(error.code, 500)
    body: dict[str, Any] = {"error": {"code": error.code.value, "message": error.message, "details": error.details}}
    return JSONResponse(body, status_code=status, headers=headers)
