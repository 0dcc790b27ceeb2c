"""The S3 adapter (MinIO, Cloudflare R2, AWS, SeaweedFS) through miniopy-async.

Requests are signed with AWS Signature V4; presigned URLs let browsers and workers move
bytes straight to the bucket. Backend failures become the contracts' errors here, once:
a missing object `ObjectNotFound`, a range past the end `RangeNotSatisfiable`, anything
else (unreachable, refused credentials, server errors) `StorageUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from miniopy_async import Minio
from miniopy_async.commonconfig import REPLACE, CopySource
from miniopy_async.deleteobjects import DeleteObject
from miniopy_async.error import MinioException, S3Error

from makefx_storage._sources import ChunkReader, chunks_of
from makefx_storage.errors import ObjectNotFound, ObjectTooLarge, RangeNotSatisfiable, StorageUnavailable
from makefx_storage.keys import check_key, check_prefix
from makefx_storage.store import CHUNK_SIZE, DEFAULT_CONTENT_TYPE, ByteRange, ObjectInfo, ObjectStream, Source

# Parts of an upload of unknown length; S3's minimum is 5 MiB (except the last part).
PART_SIZE = 16 * 1024 * 1024
_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"}
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class S3Store:
    backend = "s3"

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        secure: bool = True,
    ) -> None:
        host, secure = _host_and_scheme(endpoint, secure)
        self.endpoint = host
        self.bucket = bucket
        self.region = region
        self._client = Minio(host, access_key=access_key, secret_key=secret_key, secure=secure, region=region)

    async def start(self) -> None:
        """Create the bucket if it is missing (another process creating it at the same time is fine)."""
        with self._errors(None):
            if await self._client.bucket_exists(self.bucket):
                return
            try:
                await self._client.make_bucket(self.bucket, location=self.region)
            except S3Error as error:
                if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    async def close(self) -> None:
        await self._client.close_session()

    def local_path(self, key: str) -> Path | None:
        check_key(key)
        return None

    # -- writing -----------------------------------------------------------------

    async def put(
        self,
        key: str,
        source: Source,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_bytes: int | None = None,
    ) -> ObjectInfo:
        check_key(key)
        with self._errors(key):
            if isinstance(source, bytes | bytearray | memoryview):
                data = bytes(source)
                if max_bytes is not None and len(data) > max_bytes:
                    raise ObjectTooLarge(max_bytes)
                await self._client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)
            else:
                length = -1
                if isinstance(source, Path):
                    length = (await asyncio.to_thread(source.stat)).st_size
                reader = ChunkReader(chunks_of(source, max_bytes))
                await self._client.put_object(
                    self.bucket,
                    key,
                    reader,  # type: ignore[arg-type]  # miniopy awaits read() when it returns a coroutine
                    length,
                    content_type=content_type,
                    part_size=PART_SIZE if length < 0 else 0,
                    num_parallel_uploads=1,
                )
        return await self.stat(key)

    async def move(self, source: str, target: str, *, content_type: str | None = None) -> ObjectInfo:
        check_key(source)
        check_key(target)
        if source == target and content_type is None:
            return await self.stat(source)
        with self._errors(source):
            if content_type is None:
                await self._client.copy_object(self.bucket, target, CopySource(self.bucket, source))
            else:
                await self._client.copy_object(
                    self.bucket,
                    target,
                    CopySource(self.bucket, source),
                    metadata={"Content-Type": content_type},
                    metadata_directive=REPLACE,
                )
            if source != target:
                await self._client.remove_object(self.bucket, source)
        return await self.stat(target)

    async def delete(self, key: str) -> None:
        check_key(key)
        with self._errors(key):
            await self._client.remove_object(self.bucket, key)

    async def delete_many(self, keys: Iterable[str]) -> None:
        keys = [check_key(key) for key in keys]
        if not keys:
            return
        with self._errors(None):
            failures = [
                error async for error in self._client.remove_objects(self.bucket, [DeleteObject(key) for key in keys])
            ]
        if failures:
            raise StorageUnavailable(
                f"could not delete {len(failures)} object(s)",
                details={"keys": [failure.name for failure in failures][:20], "s3Code": failures[0].code},
            )

    # -- reading -----------------------------------------------------------------

    async def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        with self._errors(key):
            found = await self._client.stat_object(self.bucket, key)
        return ObjectInfo(
            key=key,
            size=found.size or 0,
            etag=(found.etag or "").strip('"'),
            content_type=found.content_type or DEFAULT_CONTENT_TYPE,
            modified=found.last_modified or datetime.now(UTC),
        )

    async def exists(self, key: str) -> bool:
        try:
            await self.stat(key)
        except ObjectNotFound:
            return False
        return True

    async def get(self, key: str, *, byte_range: ByteRange | None = None) -> ObjectStream:
        check_key(key)
        try:
            with self._errors(key):
                if byte_range is None:
                    response = await self._client.get_object(self.bucket, key)
                else:
                    response = await self._client.get_object(
                        self.bucket, key, offset=byte_range.start, length=byte_range.length
                    )
        except S3Error as error:
            if error.code == "InvalidRange":
                raise RangeNotSatisfiable((await self.stat(key)).size) from None
            raise
        try:
            info, served = _info_from_response(key, response.headers)
        except BaseException:
            response.close()
            raise

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.content.iter_chunked(CHUNK_SIZE):
                    yield chunk
            except (TimeoutError, aiohttp.ClientError) as error:
                raise StorageUnavailable(f"reading {key!r} failed: {error}", details={"key": key}) from error

        async def close() -> None:
            response.close()

        return ObjectStream(info, chunks(), close, served)

    async def list_keys(self, prefix: str) -> AsyncIterator[str]:
        check_prefix(prefix)
        with self._errors(None):
            found = [item.object_name async for item in self._client.list_objects(self.bucket, prefix, recursive=True)]
        for key in sorted(name for name in found if name):
            yield key

    # -- signing -----------------------------------------------------------------

    async def presigned_get(self, key: str, expires: timedelta) -> str | None:
        check_key(key)
        return await self._client.presigned_get_object(self.bucket, key, expires=expires)

    async def presigned_put(self, key: str, expires: timedelta) -> str | None:
        check_key(key)
        return await self._client.presigned_put_object(self.bucket, key, expires=expires)

    # -- errors ------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, key: str | None) -> Iterator[None]:
        """The one translation of backend failures into the contracts' errors."""
        try:
            yield
        except S3Error as error:
            if error.code in _MISSING and key is not None:
                raise ObjectNotFound(key) from None
            if error.code == "InvalidRange":
                raise
            raise StorageUnavailable(
                f"the object store refused the request: {error.code}",
                details={"s3Code": error.code, "bucket": self.bucket, "endpoint": self.endpoint},
            ) from error
        except (TimeoutError, MinioException, aiohttp.ClientError, OSError) as error:
            raise StorageUnavailable(
                f"the object store did not answer: {type(error).__name__}",
                details={"bucket": self.bucket, "endpoint": self.endpoint},
            ) from error


def _host_and_scheme(endpoint: str, secure: bool) -> tuple[str, bool]:
    """`host:port`, or a URL whose scheme decides TLS (R2's and AWS's endpoints are usually given as URLs)."""
    if "://" not in endpoint:
        return endpoint.rstrip("/"), secure
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or parts.path.strip("/") or not parts.netloc:
        raise ValueError(f"the S3 endpoint must be host:port or http(s)://host:port, not {endpoint!r}")
    return parts.netloc, parts.scheme == "https"


def _info_from_response(key: str, headers: Mapping[str, str]) -> tuple[ObjectInfo, ByteRange | None]:
    """The object's facts from a GET's headers, and the range served (None when the whole object came)."""
    length = int(headers.get("Content-Length", "0"))
    size, served = length, None
    match = _CONTENT_RANGE.match(headers.get("Content-Range", ""))
    if match:
        start, end, total = match.groups()
        served = ByteRange(int(start), int(end))
        size = int(total) if total != "*" else length
    modified_header = headers.get("Last-Modified")
    return (
        ObjectInfo(
            key=key,
            size=size,
            etag=headers.get("ETag", "").strip('"'),
            content_type=headers.get("Content-Type") or DEFAULT_CONTENT_TYPE,
            modified=parsedate_to_datetime(modified_header) if modified_header else datetime.now(UTC),
        ),
        served,
    )
