"""What a store refuses, as members of the contracts' exception tree so every boundary maps them once."""

from __future__ import annotations

from makefx_contracts.errors import NotFound, Unavailable, ValidationFailed


class ObjectNotFound(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"no object at {key!r}", details={"key": key})
        self.key = key


class InvalidKey(ValidationFailed):
    """A key that could escape the store's root or is not one of ours (``..``, ``/abs``, ``\\``, NUL, …)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid object key: {reason}", details={"key": key[:200], "reason": reason})
        self.key = key


class RangeNotSatisfiable(ValidationFailed):
    """The asked byte range starts at or past the end of the object (HTTP 416)."""

    def __init__(self, size: int) -> None:
        super().__init__("the byte range is outside the object", details={"size": size})
        self.size = size


class ObjectTooLarge(ValidationFailed):
    """More bytes arrived than the caller allowed (HTTP 413); nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the object is larger than {limit} bytes", details={"limitBytes": limit})
        self.limit = limit


class StorageUnavailable(Unavailable):
    """The backend could not be reached or answered with a server error."""
