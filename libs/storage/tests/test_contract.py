"""The contract every `ObjectStore` keeps, run against the directory store and a real S3 server."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from makefx_storage import (
    ByteRange,
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    ObjectTooLarge,
    RangeNotSatisfiable,
)

BODY = bytes(range(256)) * 4096  # 1 MiB, every byte value, so an off-by-one range shows


async def chunks(data: bytes, size: int = 100_000) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[offset : offset + size]


async def test_put_then_get_returns_the_same_bytes_and_facts(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    info = await store.put("images/s1/v1.png", BODY, content_type="image/png")
    assert (info.key, info.size, info.content_type) == ("images/s1/v1.png", len(BODY), "image/png")
    assert info.etag
    assert info.modified >= before
    async with await store.get("images/s1/v1.png") as stream:
        assert stream.info.size == len(BODY)
        assert stream.info.content_type == "image/png"
        assert stream.info.etag == info.etag
        assert stream.range is None
        assert stream.length == len(BODY)
        assert await stream.read() == BODY


async def test_put_streams_an_async_iterator_and_a_local_file(store: ObjectStore, tmp_path: Path) -> None:
    streamed = await store.put("media/s1/v2.mp3", chunks(BODY), content_type="audio/mpeg")
    assert streamed.size == len(BODY)
    file = tmp_path / "upload.bin"
    file.write_bytes(BODY[:1000])
    from_file = await store.put("media/s1/v3.wav", file, content_type="audio/wav")
    assert from_file.size == 1000
    assert await (await store.get("media/s1/v2.mp3")).read() == BODY
    assert await (await store.get("media/s1/v3.wav")).read() == BODY[:1000]


async def test_etag_is_the_md5_of_a_single_part_upload(store: ObjectStore) -> None:
    info = await store.put("images/s1/v1.png", b"hello", content_type="image/png")
    assert info.etag == hashlib.md5(b"hello", usedforsecurity=False).hexdigest()


async def test_put_replaces_an_existing_object_whole(store: ObjectStore) -> None:
    await store.put("images/s1/v1.png", BODY, content_type="image/png")
    await store.put("images/s1/v1.png", b"short", content_type="image/webp")
    info = await store.stat("images/s1/v1.png")
    assert (info.size, info.content_type) == (5, "image/webp")
    assert await (await store.get("images/s1/v1.png")).read() == b"short"


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        (ByteRange(0, 0), ByteRange(0, 0)),
        (ByteRange(10, 19), ByteRange(10, 19)),
        (ByteRange(len(BODY) - 5, len(BODY) - 1), ByteRange(len(BODY) - 5, len(BODY) - 1)),
        (ByteRange(len(BODY) - 5, len(BODY) + 100), ByteRange(len(BODY) - 5, len(BODY) - 1)),
    ],
)
async def test_get_with_a_range_returns_exactly_those_bytes(
    store: ObjectStore, asked: ByteRange, served: ByteRange
) -> None:
    await store.put("media/s1/v1.mp4", BODY, content_type="video/mp4")
    async with await store.get("media/s1/v1.mp4", byte_range=asked) as stream:
        assert stream.range == served
        assert stream.info.size == len(BODY)
        assert stream.length == served.length
        assert await stream.read() == BODY[served.start : served.end + 1]


async def test_a_range_starting_past_the_end_is_not_satisfiable(store: ObjectStore) -> None:
    await store.put("media/s1/v1.mp4", BODY, content_type="video/mp4")
    with pytest.raises(RangeNotSatisfiable) as refused:
        await store.get("media/s1/v1.mp4", byte_range=ByteRange(len(BODY), len(BODY) + 10))
    assert refused.value.size == len(BODY)


async def test_a_stream_closed_early_frees_its_source(store: ObjectStore) -> None:
    await store.put("media/s1/v1.mp4", BODY, content_type="video/mp4")
    stream = await store.get("media/s1/v1.mp4")
    first = await anext(stream)
    assert first == BODY[: len(first)]
    await stream.aclose()
    assert [chunk async for chunk in stream] == []
    # The store still serves the object afterwards (nothing leaked or locked).
    assert await (await store.get("media/s1/v1.mp4")).read() == BODY


async def test_missing_objects_raise_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        await store.stat("images/s1/missing.png")
    with pytest.raises(ObjectNotFound):
        await store.get("images/s1/missing.png")
    with pytest.raises(ObjectNotFound):
        await store.move("images/s1/missing.png", "images/s1/other.png")
    assert await store.exists("images/s1/missing.png") is False


async def test_delete_removes_the_object_and_is_idempotent(store: ObjectStore) -> None:
    await store.put("images/s1/v1.png", b"x", content_type="image/png")
    assert await store.exists("images/s1/v1.png")
    await store.delete("images/s1/v1.png")
    assert await store.exists("images/s1/v1.png") is False
    await store.delete("images/s1/v1.png")


async def test_delete_many_removes_each_key(store: ObjectStore) -> None:
    for key in ("images/s1/a.png", "images/s1/b.png", "images/s1/c.png"):
        await store.put(key, b"x", content_type="image/png")
    await store.delete_many(["images/s1/a.png", "images/s1/c.png", "images/s1/never.png"])
    assert [key async for key in store.list_keys("images/s1/")] == ["images/s1/b.png"]


async def test_list_keys_is_a_string_prefix_in_key_order(store: ObjectStore) -> None:
    for key in (
        "images/s1/v1.png",
        "images/s1/v1_thumb.webp",
        "images/s1/v10.png",
        "images/s2/v1.png",
        "media/s1/v1.mp3",
    ):
        await store.put(key, b"x")
    assert [key async for key in store.list_keys("images/s1/v1")] == [
        "images/s1/v1.png",
        "images/s1/v10.png",
        "images/s1/v1_thumb.webp",
    ]
    assert [key async for key in store.list_keys("images/")] == [
        "images/s1/v1.png",
        "images/s1/v10.png",
        "images/s1/v1_thumb.webp",
        "images/s2/v1.png",
    ]
    assert [key async for key in store.list_keys("nothing/")] == []


async def test_move_renames_and_can_set_the_content_type(store: ObjectStore) -> None:
    await store.put("staging/s1/v1", BODY, content_type="application/octet-stream")
    moved = await store.move("staging/s1/v1", "images/s1/v1.png", content_type="image/png")
    assert (moved.key, moved.size, moved.content_type) == ("images/s1/v1.png", len(BODY), "image/png")
    assert await store.exists("staging/s1/v1") is False
    assert await (await store.get("images/s1/v1.png")).read() == BODY


async def test_max_bytes_refuses_a_larger_upload_and_stores_nothing(store: ObjectStore) -> None:
    with pytest.raises(ObjectTooLarge):
        await store.put("staging/s1/v1", chunks(BODY), max_bytes=len(BODY) - 1)
    with pytest.raises(ObjectTooLarge):
        await store.put("staging/s1/v2", BODY, max_bytes=10)
    assert await store.exists("staging/s1/v1") is False
    assert await store.exists("staging/s1/v2") is False
    exact = await store.put("staging/s1/v3", chunks(BODY), max_bytes=len(BODY))
    assert exact.size == len(BODY)


async def test_an_empty_object_is_stored_and_read(store: ObjectStore) -> None:
    info = await store.put("staging/s1/v1", b"")
    assert info.size == 0
    assert await (await store.get("staging/s1/v1")).read() == b""


@pytest.mark.parametrize(
    "key",
    [
        "../escape",
        "/etc/passwd",
        "images/../../x",
        "images\\s1\\v1.png",
        "images/s1/\x00.png",
        "",
        "images//v1",
        ".hidden",
    ],
)
async def test_unsafe_keys_are_refused_by_every_operation(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put(key, b"x")
    with pytest.raises(InvalidKey):
        await store.get(key)
    with pytest.raises(InvalidKey):
        await store.stat(key)
    with pytest.raises(InvalidKey):
        await store.delete(key)
    with pytest.raises(InvalidKey):
        await store.presigned_get(key, timedelta(minutes=1))


async def test_concurrent_puts_of_one_key_leave_one_whole_object(store: ObjectStore) -> None:
    bodies = [bytes([n]) * 300_000 for n in range(5)]
    await asyncio.gather(*(store.put("images/s1/v1.png", body, content_type="image/png") for body in bodies))
    stored = await (await store.get("images/s1/v1.png")).read()
    assert stored in bodies


async def test_a_stream_larger_than_one_upload_part_is_stored_whole(store: ObjectStore) -> None:
    large = BODY * 17  # 17 MiB: more than one 16 MiB part of an S3 multipart upload

    async def parts() -> AsyncIterator[bytes]:
        for offset in range(0, len(large), 1024 * 1024):
            yield large[offset : offset + 1024 * 1024]

    info = await store.put("media/s1/v1.mp4", parts(), content_type="video/mp4")
    assert (info.size, info.content_type) == (len(large), "video/mp4")
    tail = ByteRange(len(large) - 10, len(large) - 1)
    assert await (await store.get("media/s1/v1.mp4", byte_range=tail)).read() == large[-10:]
    assert hashlib.sha256(await (await store.get("media/s1/v1.mp4")).read()).digest() == hashlib.sha256(large).digest()
