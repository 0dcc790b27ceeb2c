"""The directory adapter: objects as files under one root, the embedded default.

Every key is checked (`keys.check_key`) and its resolved path must stay under the root,
so no key, symlink included, reaches outside it. A checked key cannot climb (`..`) or be
absolute, so only a symlink inside the root could lead out: the path is resolved (slow,
~75 µs a key) only when one of its components under the root is a link, found with one
`lstat` per segment, in the thread doing the file's work (a lookup in a folder another
thread is writing to can wait for it, and must not stall the event loop). Writes go to a
hidden temporary file renamed into place, so a reader sees the old object or the new one,
never half of one. The content type and ETag live in a hidden sidecar (`.<name>.meta`)
beside the file; keys never start with a dot, so neither can collide with an object.

Durability: an object is fsynced before it is renamed to a final key, so one the service
has reported stored survives a power cut whole. Staged bytes (`staging/…`, an upload not
yet ingested) are not: lost or torn by a crash they fail their ingest, and the uploader
or generation job runs again. Their fsync is paid when ingest moves them to their final
key instead, and never for uploads refused or abandoned; the upload itself answers sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import mimetypes
import os
import secrets
import stat
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from makefx_storage._sources import chunks_of
from makefx_storage.errors import InvalidKey, ObjectNotFound, ObjectTooLarge, RangeNotSatisfiable
from makefx_storage.keys import check_key, check_prefix, is_staging_key
from makefx_storage.store import CHUNK_SIZE, DEFAULT_CONTENT_TYPE, ByteRange, ObjectInfo, ObjectStream, Source


class FsStore:
    backend = "fs"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self._resolved_root: Path | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        self._resolved_root = self.root.resolve()

    async def close(self) -> None:
        return None

    # -- paths -------------------------------------------------------------------

    def _base(self) -> Path:
        if self._resolved_root is None:
            self._resolved_root = self.root.resolve()
        return self._resolved_root

    def _path(self, key: str) -> Path:
        """The file of a checked key, without touching the disk: `_confine` it in the thread that uses it."""
        return self._base().joinpath(*check_key(key).split("/"))

    def _confine(self, key: str, path: Path) -> Path:
        """`path` (of `key`), unless a symlink under the root leads it outside (blocking: call in a thread)."""
        root = self._base()
        if _links_below(root, key.split("/")) and not path.resolve().is_relative_to(root):
            raise InvalidKey(key, "resolves outside the store")
        return path

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_name(f".{path.name}.meta")

    @staticmethod
    def _temporary(path: Path) -> Path:
        return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")

    def local_path(self, key: str) -> Path | None:
        return self._confine(key, self._path(key))

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
        durable = not is_staging_key(key)
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            if max_bytes is not None and len(data) > max_bytes:
                raise ObjectTooLarge(max_bytes)
            # Bytes in hand (a thumbnail, a poster): the whole write in one trip to a thread, not one a step.
            return await asyncio.to_thread(self._put_bytes, key, path, data, content_type, durable)
        file, temporary = await asyncio.to_thread(self._create_temporary, key, path)
        digest = hashlib.md5(usedforsecurity=False)
        try:
            try:
                async for chunk in chunks_of(source, max_bytes):
                    digest.update(chunk)
                    await asyncio.to_thread(file.write, chunk)
                await asyncio.to_thread(_flush, file, durable=durable)
            finally:
                file.close()
            return await asyncio.to_thread(self._finish, key, temporary, path, content_type, digest.hexdigest())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _create_temporary(self, key: str, path: Path) -> tuple[BinaryIO, Path]:
        self._confine(key, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._temporary(path)
        return open(temporary, "xb"), temporary  # closed by the caller

    def _put_bytes(self, key: str, path: Path, data: bytes, content_type: str, durable: bool) -> ObjectInfo:
        file, temporary = self._create_temporary(key, path)
        try:
            with file:
                file.write(data)
                _flush(file, durable=durable)
            return self._finish(
                key, temporary, path, content_type, hashlib.md5(data, usedforsecurity=False).hexdigest()
            )
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _finish(self, key: str, temporary: Path, path: Path, content_type: str, etag: str) -> ObjectInfo:
        self._commit(temporary, path, content_type, etag, temporary.stat().st_size)
        return self._stat(key, path)

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
            info = await self.stat(source)  # confines the path
            await asyncio.to_thread(self._write_meta, target_path, content_type, info.etag, info.size)
            return await self.stat(target)
        # Leaving staging, the bytes become a final object: they reach the disk before its name does.
        durable = is_staging_key(source) and not is_staging_key(target)
        return await asyncio.to_thread(self._move, source, target, source_path, target_path, content_type, durable)

    def _move(
        self, key: str, target_key: str, source: Path, target: Path, content_type: str | None, durable: bool
    ) -> ObjectInfo:
        self._confine(key, source)
        self._confine(target_key, target)
        meta = self._read_meta(source)
        try:
            size = source.stat().st_size
            if durable:
                _sync(source)
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
        return self._stat(target_key, target)

    def _write_meta(self, path: Path, content_type: str, etag: str, size: int) -> None:
        sidecar = self._sidecar(path)
        temporary = self._temporary(sidecar)
        temporary.write_text(json.dumps({"contentType": content_type, "etag": etag, "size": size}))
        os.replace(temporary, sidecar)

    async def delete(self, key: str) -> None:
        await self.delete_many([key])

    async def delete_many(self, keys: Iterable[str]) -> None:
        found = [(key, self._path(key)) for key in keys]
        await asyncio.to_thread(self._delete, found)

    def _delete(self, found: list[tuple[str, Path]]) -> None:
        # Every path is confined before the first is deleted: an unsafe key deletes nothing.
        paths = [self._confine(key, path) for key, path in found]
        for path in paths:
            with contextlib.suppress(IsADirectoryError):
                path.unlink(missing_ok=True)
            self._sidecar(path).unlink(missing_ok=True)

    # -- reading -----------------------------------------------------------------

    async def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        return await asyncio.to_thread(self._stat, key, path)

    def _stat(self, key: str, path: Path) -> ObjectInfo:
        self._confine(key, path)
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
        return await asyncio.to_thread(lambda: self._confine(key, path).is_file())

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectStream:
        path = self._path(key)
        file, info = await asyncio.to_thread(self._open, key, path)
        try:
            if byte_range is not None:
                if byte_range.start >= info.size:
                    raise RangeNotSatisfiable(info.size)
                byte_range = ByteRange(byte_range.start, min(byte_range.end, info.size - 1))
                file.seek(byte_range.start)  # moves an offset, no I/O: not worth a trip to a thread
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
        self._confine(key, path)
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
        """Keys starting with `prefix`: only the folder it names is read, and of it only the names that match
        (a space's folder holds every image of the space; ingest lists one variant's)."""
        folder, _, stem = prefix.rpartition("/")
        found: list[str] = []
        _collect(
            str(self.root.joinpath(*folder.split("/")) if folder else self.root),
            f"{folder}/" if folder else "",
            stem,
            found,
        )
        return sorted(found)

    # -- signing -----------------------------------------------------------------

    async def presigned_get(self, key: str, expires: timedelta) -> str | None:
        check_key(key)
        return None

    async def presigned_put(self, key: str, expires: timedelta) -> str | None:
        check_key(key)
        return None


def _flush(file: BinaryIO, *, durable: bool) -> None:
    file.flush()
    if durable:
        os.fsync(file.fileno())


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _collect(directory: str, relative: str, stem: str, found: list[str]) -> None:
    """Add the keys under `directory` (key prefix `relative`) whose name there starts with `stem`."""
    try:
        entries = os.scandir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    with entries:
        for entry in entries:
            name = entry.name
            if name.startswith(".") or not name.startswith(stem):
                continue  # a sidecar or temporary file, or another object's name
            if not entry.is_dir():
                found.append(relative + name)
            elif not entry.is_symlink():
                _collect(entry.path, f"{relative}{name}/", "", found)


def _links_below(root: Path, segments: list[str]) -> bool:
    """Whether any existing component of `root/segments…` below `root` is a symbolic link."""
    current = str(root)
    for segment in segments:
        current = f"{current}/{segment}"
        try:
            mode = os.lstat(current).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return False  # nothing exists from here down, links included
        if stat.S_ISLNK(mode):
            return True
    return False


def _guess_type(path: Path) -> str:
    return mimetypes.guess_type(path.name, strict=False)[0] or DEFAULT_CONTENT_TYPE


def _weak_etag(status: os.stat_result) -> str:
    return f"{status.st_size:x}-{status.st_mtime_ns:x}"
