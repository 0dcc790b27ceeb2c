"""The directory adapter: objects as files under one root, the embedded default.

Every key is checked (`keys.check_key`) and its resolved path must stay under the root,
so no key, symlink included, reaches outside it. Writes go to a hidden temporary file
that is fsynced and renamed into place, so a reader sees the old object or the new one,
never half of one. The content type and ETag live in a hidden sidecar (`.<name>.meta`)
beside the file; keys never start with a dot, so neither can collide with an object.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import mimetypes
import os
import secrets
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from makefx_storage._sources import chunks_of
from makefx_storage.errors import InvalidKey, ObjectNotFound, RangeNotSatisfiable
from makefx_storage.keys import check_key, check_prefix
from makefx_storage.store import CHUNK_SIZE, DEFAULT_CONTENT_TYPE, ByteRange, ObjectInfo, ObjectStream, Source


class FsStore:
    backend = "fs"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    async def start(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        return None

    # -- paths -------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        check_key(key)
        root = self.root.resolve()
        path = root.joinpath(*key.split("/"))
        if not path.resolve().is_relative_to(root):
            raise InvalidKey(key, "resolves outside the store")
        return path

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_name(f".{path.name}.meta")

    @staticmethod
    def _temporary(path: Path) -> Path:
        return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    # -- writing -----------------------------------------------------------------

    async def put(
        self,
        key: str,
        source: Source,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_bytes: int | None = None,
    ) -> ObjectInfo:
        path = self._path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        temporary = self._temporary(path)
        digest = hashlib.md5(usedforsecurity=False)
        file = await asyncio.to_thread(open, temporary, "xb")
        try:
            try:
                async for chunk in chunks_of(source, max_bytes):
                    digest.update(chunk)
                    await asyncio.to_thread(file.write, chunk)
                await asyncio.to_thread(_flush, file)
            finally:
                file.close()
            size = (await asyncio.to_thread(temporary.stat)).st_size
            await asyncio.to_thread(self._commit, temporary, path, content_type, digest.hexdigest(), size)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return await self.stat(key)

    def _commit(self, temporary: Path, path: Path, content_type: str, etag: str, size: int) -> None:
        sidecar = self._sidecar(path)
        sidecar_temporary = self._temporary(sidecar)
        sidecar_temporary.write_text(json.dumps({"contentType": content_type, "etag": etag, "size": size}))
        try:
            os.replace(temporary, path)
            os.replace(sidecar_temporary, sidecar)
        finally:
            sidecar_temporary.unlink(missing_ok=True)

    async def move(self, source: str, target: str, *, content_type: str | None = None) -> ObjectInfo:
        source_path, target_path = self._path(source), self._path(target)
        if source_path == target_path:
            if content_type is None:
                return await self.stat(source)
            info = await self.stat(source)
            await asyncio.to_thread(self._write_meta, target_path, content_type, info.etag, info.size)
            return await self.stat(target)
        await asyncio.to_thread(self._move, source, source_path, target_path, content_type)
        return await self.stat(target)

    def _move(self, key: str, source: Path, target: Path, content_type: str | None) -> None:
        meta = self._read_meta(source)
        try:
            size = source.stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        self._write_meta(
            target,
            content_type or (meta or {}).get("contentType") or _guess_type(target),
            (meta or {}).get("etag") or _weak_etag(target.stat()),
            size,
        )
        self._sidecar(source).unlink(missing_ok=True)

    def _write_meta(self, path: Path, content_type: str, etag: str, size: int) -> None:
        sidecar = self._sidecar(path)
        temporary = self._temporary(sidecar)
        temporary.write_text(json.dumps({"contentType": content_type, "etag": etag, "size": size}))
        os.replace(temporary, sidecar)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(self._delete, path)

    async def delete_many(self, keys: Iterable[str]) -> None:
        paths = [self._path(key) for key in keys]
        for path in paths:
            await asyncio.to_thread(self._delete, path)

    def _delete(self, path: Path) -> None:
        with contextlib.suppress(IsADirectoryError):
            path.unlink(missing_ok=True)
        self._sidecar(path).unlink(missing_ok=True)

    # -- reading -----------------------------------------------------------------

    async def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        return await asyncio.to_thread(self._stat, key, path)

    def _stat(self, key: str, path: Path) -> ObjectInfo:
        try:
            status = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not path.is_file():
            raise ObjectNotFound(key)
        return self._info(key, path, status)

    def _info(self, key: str, path: Path, status: os.stat_result) -> ObjectInfo:
        meta = self._read_meta(path)
        if meta is None or meta.get("size") != status.st_size:
            # Placed by hand or torn by a crash between the two renames: trust the file, not the sidecar.
            meta = {"contentType": _guess_type(path), "etag": _weak_etag(status)}
        return ObjectInfo(
            key=key,
            size=status.st_size,
            etag=meta["etag"],
            content_type=meta["contentType"],
            modified=datetime.fromtimestamp(status.st_mtime, UTC),
        )

    def _read_meta(self, path: Path) -> dict[str, Any] | None:
        try:
            meta = json.loads(self._sidecar(path).read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await asyncio.to_thread(path.is_file)

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectStream:
        path = self._path(key)
        file, info = await asyncio.to_thread(self._open, key, path)
        try:
            if byte_range is not None:
                if byte_range.start >= info.size:
                    raise RangeNotSatisfiable(info.size)
                byte_range = ByteRange(byte_range.start, min(byte_range.end, info.size - 1))
                await asyncio.to_thread(file.seek, byte_range.start)
        except BaseException:
            file.close()
            raise
        remaining = byte_range.length if byte_range is not None else info.size

        async def chunks() -> AsyncIterator[bytes]:
            left = remaining
            while left > 0:
                chunk = await asyncio.to_thread(file.read, min(CHUNK_SIZE, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

        async def close() -> None:
            file.close()

        return ObjectStream(info, chunks(), close, byte_range)

    def _open(self, key: str, path: Path) -> tuple[BinaryIO, ObjectInfo]:
        try:
            file = open(path, "rb")  # noqa: SIM115 - the stream closes it
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        try:
            return file, self._info(key, path, os.fstat(file.fileno()))
        except BaseException:
            file.close()
            raise

    async def list_keys(self, prefix: str) -> AsyncIterator[str]:
        check_prefix(prefix)
        for key in await asyncio.to_thread(self._list, prefix):
            yield key

    def _list(self, prefix: str) -> list[str]:
        folder = prefix if prefix.endswith("/") or not prefix else prefix.rpartition("/")[0]
        start = self.root.joinpath(*folder.split("/")) if folder.strip("/") else self.root
        found: list[str] = []
        for directory, folders, files in os.walk(start):
            folders[:] = [name for name in folders if not name.startswith(".")]
            relative = Path(directory).relative_to(self.root).as_posix()
            for name in files:
                if name.startswith("."):
                    continue
                key = name if relative == "." else f"{relative}/{name}"
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)

    # -- signing -----------------------------------------------------------------

    async def presigned_get(self, key: str, expires: timedelta) -> str | None:
        check_key(key)
        return None

    async def presigned_put(self, key: str, expires: timedelta) -> str | None:
        check_key(key)
        return None


def _flush(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


def _guess_type(path: Path) -> str:
    return mimetypes.guess_type(path.name, strict=False)[0] or DEFAULT_CONTENT_TYPE


def _weak_etag(status: os.stat_result) -> str:
    return f"{status.st_size:x}-{status.st_mtime_ns:x}"
