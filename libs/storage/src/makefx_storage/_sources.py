"""Turning any `Source` into chunks, with a byte limit enforced while they arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from makefx_storage.errors import ObjectTooLarge
from makefx_storage.store import CHUNK_SIZE, Source


async def chunks_of(source: Source, max_bytes: int | None = None) -> AsyncIterator[bytes]:
    """The source's bytes in chunks; raises `ObjectTooLarge` as soon as `max_bytes` is passed."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if max_bytes is not None and len(data) > max_bytes:
            raise ObjectTooLarge(max_bytes)
        for offset in range(0, len(data), CHUNK_SIZE):
            yield data[offset : offset + CHUNK_SIZE]
        return
    chunks = _file_chunks(source) if isinstance(source, Path) else _async_chunks(source)
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if max_bytes is not None and seen > max_bytes:
            raise ObjectTooLarge(max_bytes)
        yield chunk


async def _async_chunks(source: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    async for chunk in source:
        if chunk:
            yield bytes(chunk)


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    file = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_SIZE):
            yield chunk
    finally:
        file.close()


class ChunkReader:
    """A file-like `read(n)` (awaitable) over chunks, for clients that pull bytes (miniopy-async)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._done = False

    async def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            try:
                self._buffer += await anext(self._chunks)
            except StopAsyncIteration:
                self._done = True
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data
