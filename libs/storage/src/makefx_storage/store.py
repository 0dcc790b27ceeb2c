"""The object-store port: what the services need from a bucket, whichever backend holds it."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Protocol

Source = bytes | Path | AsyncIterable[bytes]
"""What `put` stores: bytes in memory, a local file, or chunks as they arrive (an upload body)."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"
CHUNK_SIZE = 256 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    content_type: str
    modified: datetime


@dataclass(frozen=True)
class ByteRange:
    """Bytes `start`..`end` of an object, both inclusive (as in HTTP's `Range: bytes=start-end`)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid byte range {self.start}-{self.end}")

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class ObjectStream:
    """An object's bytes (or one range of them) as they arrive, with the object's facts.

    Iterate it for chunks; it closes itself when exhausted. Use it as an async context
    manager (or call `aclose`) when you may stop early, so the connection or file is freed.
    """

    def __init__(
        self,
        info: ObjectInfo,
        chunks: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
        byte_range: ByteRange | None = None,
    ) -> None:
        self.info = info
        self.range = byte_range
        self._chunks = chunks
        self._close = close
        self._closed = False

    @property
    def length(self) -> int:
        """How many bytes this stream yields."""
        return self.range.length if self.range is not None else self.info.size

    def __aiter__(self) -> ObjectStream:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        try:
            return await anext(self._chunks)
        except BaseException:
            await self.aclose()
            raise

    async def read(self) -> bytes:
        """All remaining bytes (only for objects known to be small)."""
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._close()

    async def __aenter__(self) -> ObjectStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class ObjectStore(Protocol):
    """A flat namespace of immutable-by-convention objects under safe keys (see `keys.check_key`).

    Every adapter passes the same contract tests (libs/storage/tests/test_contract.py).
    """

    backend: str

    async def start(self) -> None:
        """Make sure the directory or bucket exists; call once before use."""
        ...

    async def close(self) -> None: ...

    async def put(
        self,
        key: str,
        source: Source,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_bytes: int | None = None,
    ) -> ObjectInfo:
        """Store the object whole or not at all; raise `ObjectTooLarge` past `max_bytes`."""
        ...

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectStream:
        """The object's bytes; a range's `end` past the object is cut to its last byte.

        Raises `ObjectNotFound`, or `RangeNotSatisfiable` when the range starts past the end.
        """
        ...

    async def stat(self, key: str) -> ObjectInfo:
        """The object's facts, or `ObjectNotFound`."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        ...

    async def delete_many(self, keys: Iterable[str]) -> None: ...

    def list_keys(self, prefix: str) -> AsyncIterator[str]:
        """Keys that start with `prefix` (a string prefix, not only a folder), in key order."""
        ...

    async def move(self, source: str, target: str, *, content_type: str | None = None) -> ObjectInfo:
        """Give an object a new key (replacing what is there), optionally with a new content type."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A file holding the object's bytes when the store is a local directory, else None."""
        ...

    async def presigned_get(self, key: str, expires: timedelta) -> str | None:
        """A URL that lets anyone holding it GET the object until it expires; None if the backend cannot sign."""
        ...

    async def presigned_put(self, key: str, expires: timedelta) -> str | None:
        """A URL that lets anyone holding it PUT the object until it expires; None if the backend cannot sign."""
        ...
