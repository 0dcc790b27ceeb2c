"""Fixtures of the storage tests: a real S3 server (SeaweedFS, signatures checked) and each store on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from makefx_storage import FsStore, ObjectStore, S3Store
from makefx_storage.seaweed import SeaweedS3

MakeS3Store = Callable[..., S3Store]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One `weed mini` for the session, S3 authentication on (one access key and secret)."""
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def bucket_name(tmp_path: Path) -> str:
    """A bucket of this test's own (S3 names: lowercase letters, digits and hyphens)."""
    return "t-" + tmp_path.name.lower().replace("_", "-")[-50:].strip("-")


@pytest.fixture
async def make_s3_store(s3_server: SeaweedS3, tmp_path: Path) -> AsyncIterator[MakeS3Store]:
    """S3 stores on the test server, this test's bucket unless told; a wrong `secret_key` makes an impostor."""
    async with contextlib.AsyncExitStack() as stack:

        def make(bucket: str | None = None, *, secret_key: str | None = None) -> S3Store:
            store = s3_store(s3_server, bucket or bucket_name(tmp_path), secret_key=secret_key)
            stack.push_async_callback(store.close)
            return store

        yield make


def s3_store(server: SeaweedS3, bucket: str, *, secret_key: str | None = None) -> S3Store:
    return S3Store(
        endpoint=server.endpoint,
        bucket=bucket,
        access_key=server.access_key,
        secret_key=secret_key or server.secret_key,
        region="us-east-1",
        secure=False,
    )


@pytest.fixture(params=["fs", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    """Each adapter in turn, started on its own empty directory or bucket."""
    if request.param == "fs":
        opened: ObjectStore = FsStore(tmp_path / "objects")
    else:
        # A sync session fixture can be asked for from here; an async one could not.
        opened = s3_store(request.getfixturevalue("s3_server"), bucket_name(tmp_path))
    await opened.start()
    try:
        yield opened
    finally:
        await opened.close()
