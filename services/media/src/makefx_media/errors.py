"""The media service's refusals, each a member of the contracts' exception tree (so the bus and HTTP map them once)."""

from __future__ import annotations

from typing import Any

from makefx_contracts.errors import PermissionDenied, ValidationFailed
from makefx_contracts.rows import MediaKind


class UnsupportedMedia(ValidationFailed):
    """The bytes are not a type this media kind takes; `details.detected` says what they are."""

    def __init__(
        self,
        *,
        kind: MediaKind | None,
        detected: str,
        allowed: list[str],
        declared: str | None = None,
    ) -> None:
        message = f"not an accepted {kind.value if kind else 'media'} file: the content is {detected}"
        if declared and declared != detected:
            message += f" (declared as {declared})"
        details: dict[str, Any] = {"detected": detected, "allowed": allowed}
        if kind is not None:
            details["mediaKind"] = kind.value
        if declared:
            details["declared"] = declared
        super().__init__(message, details=details)
        self.detected = detected


class MediaTooLarge(ValidationFailed):
    def __init__(self, *, kind: MediaKind, size: int, limit: int) -> None:
        super().__init__(
            f"the {kind.value} file is {size} bytes; the limit is {limit}",
            details={"mediaKind": kind.value, "sizeBytes": size, "limitBytes": limit},
        )


class UndecodableMedia(ValidationFailed):
    """The bytes look like a type we take but do not decode as one (truncated, corrupt, a bomb)."""


class SignatureRefused(PermissionDenied):
    """A signed media URL that is forged, altered, for another method, or expired (HTTP 403)."""
