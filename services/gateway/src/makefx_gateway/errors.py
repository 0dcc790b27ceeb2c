"""The one mapping from failures to HTTP answers: `{"error": {"code", "message", "details"}}`.

Every route raises `FxError`s (or lets FastAPI raise its validation errors); this
module alone decides the status, the body and the headers (`Retry-After`,
`WWW-Authenticate`). Bad input is a 4xx, never a 500; request values are never
echoed back (they may be passwords).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from makefx_contracts.errors import ErrorCode, FxError
from makefx_telemetry import current_trace

log = logging.getLogger(__name__)

STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.INVALID_MESSAGE: 422,
    ErrorCode.UNKNOWN_MESSAGE_TYPE: 422,
    ErrorCode.CONFLICT: 409,
    ErrorCode.INVALID_STATE: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.QUOTA_EXCEEDED: 402,
    ErrorCode.PROVIDER_KEY_REQUIRED: 422,
    ErrorCode.PROVIDER_FAILED: 502,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.MOVED: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}

_CODE_OF_STATUS: dict[int, ErrorCode] = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.UNAVAILABLE,
}


class BodyTooLarge(HTTPException):
    """Raised while reading a body past the limit. An `HTTPException`, because FastAPI
    turns any other failure during body parsing into a generic 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body is larger than {limit} bytes")
        self.limit = limit


def error_response(
    status: int,
    code: ErrorCode,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(
        {"error": {"code": code.value, "message": message, "details": details or {}}},
        status_code=status,
        headers=headers,
    )


def fx_error_response(error: FxError) -> JSONResponse:
    headers: dict[str, str] = {}
    retry_after = error.details.get("retryAfterSeconds")
    if error.code is ErrorCode.RATE_LIMITED and isinstance(retry_after, int | float):
        headers["Retry-After"] = str(max(1, int(retry_after)))
    return error_response(STATUS.get(error.code, 500), error.code, error.message, error.details, headers)


def body_too_large_response(limit: int) -> JSONResponse:
    return error_response(
        413, ErrorCode.VALIDATION_ERROR, f"the request body is larger than {limit} bytes", {"maxBytes": limit}
    )


async def _on_fx_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, FxError)
    if error.code is ErrorCode.INTERNAL_ERROR:
        log.error("internal error: %s", error.message)
    return fx_error_response(error)


async def _on_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"loc": list(item.get("loc", ())), "msg": item.get("msg", "invalid"), "type": item.get("type", "invalid")}
        for item in error.errors()
    ]
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "request"
        message = f"invalid request: {where}: {first['msg']}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
    else:
        message = "invalid request"
    return error_response(422, ErrorCode.VALIDATION_ERROR, message, {"errors": errors})


async def _on_http_exception(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if isinstance(error, BodyTooLarge):
        return body_too_large_response(error.limit)
    status = error.status_code
    if status == 400:
        # FastAPI's answer to a body it cannot decode at all (e.g. not UTF-8): bad input,
        # reported like every other malformed body.
        return error_response(
            422,
            ErrorCode.VALIDATION_ERROR,
            "invalid request: body: the body cannot be decoded as JSON",
            {"errors": [{"loc": ["body"], "msg": "the body cannot be decoded as JSON", "type": "json_invalid"}]},
        )
    if status in _CODE_OF_STATUS:
        code = _CODE_OF_STATUS[status]
    elif status >= 500:
        code = ErrorCode.INTERNAL_ERROR
    else:
        code = ErrorCode.VALIDATION_ERROR
    message = error.detail if isinstance(error.detail, str) else HTTPStatus(status).phrase
    if status == 404 and message == HTTPStatus.NOT_FOUND.phrase:
        message = "no such route"
    return error_response(status, code, message, headers=dict(error.headers or {}))


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    trace_id = current_trace().trace_id
    log.exception("unhandled error on %s %s (trace %s)", request.method, request.url.path, trace_id)
    return error_response(500, ErrorCode.INTERNAL_ERROR, "the gateway failed to answer", {"traceId": trace_id})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FxError, _on_fx_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
