"""The one error vocabulary: codes shared by the bus, HTTP and the WebSocket, and the exception tree."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from makefx_contracts.base import Message


class ErrorCode(StrEnum):
    # The original product's codes.
    PERMISSION_DENIED = "PERMISSION_DENIED"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    UNKNOWN_MESSAGE_TYPE = "UNKNOWN_MESSAGE_TYPE"
    INVALID_MESSAGE = "INVALID_MESSAGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    RATE_LIMITED = "RATE_LIMITED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    PROVIDER_KEY_REQUIRED = "PROVIDER_KEY_REQUIRED"
    # Ours.
    MOVED = "MOVED"
    CONFLICT = "CONFLICT"
    UNAVAILABLE = "UNAVAILABLE"
    PROVIDER_FAILED = "PROVIDER_FAILED"
    UNAUTHENTICATED = "UNAUTHENTICATED"


class ErrorReply(Message):
    """The typed error envelope: a responder's answer on the bus, an `error` frame on the socket."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None


class FxError(Exception):
    """Base of every error that crosses a boundary with a code.

    Domain code raises a subclass; each boundary (bus, HTTP, WebSocket) maps it
    to its wire form in one place.
    """

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_reply(self, request_id: str | None = None) -> ErrorReply:
        return ErrorReply(code=self.code, message=self.message, details=self.details, request_id=request_id)

    @staticmethod
    def from_reply(reply: ErrorReply) -> FxError:
        cls = _BY_CODE.get(reply.code, FxError)
        error = cls.__new__(cls)
        FxError.__init__(error, reply.message, details=reply.details)
        error.code = reply.code
        return error

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}: {self.message!r})"


class PermissionDenied(FxError):
    code = ErrorCode.PERMISSION_DENIED


class Unauthenticated(FxError):
    code = ErrorCode.UNAUTHENTICATED


class ValidationFailed(FxError):
    code = ErrorCode.VALIDATION_ERROR


class NotFound(FxError):
    code = ErrorCode.NOT_FOUND


class InvalidState(FxError):
    code = ErrorCode.INVALID_STATE


class InvalidMessage(FxError):
    code = ErrorCode.INVALID_MESSAGE


class UnknownMessageType(FxError):
    code = ErrorCode.UNKNOWN_MESSAGE_TYPE


class RateLimited(FxError):
    code = ErrorCode.RATE_LIMITED


class QuotaExceeded(FxError):
    code = ErrorCode.QUOTA_EXCEEDED


class ProviderKeyRequired(FxError):
    code = ErrorCode.PROVIDER_KEY_REQUIRED


class Moved(FxError):
    """Another replica owns the space; `details["owner"]` names it."""

    code = ErrorCode.MOVED

    @property
    def owner(self) -> str | None:
        return self.details.get("owner")


class Conflict(FxError):
    code = ErrorCode.CONFLICT


class Unavailable(FxError):
    code = ErrorCode.UNAVAILABLE


class ProviderFailed(FxError):
    code = ErrorCode.PROVIDER_FAILED


class InternalError(FxError):
    code = ErrorCode.INTERNAL_ERROR


_BY_CODE: dict[ErrorCode, type[FxError]] = {cls.code: cls for cls in FxError.__subclasses__()}
