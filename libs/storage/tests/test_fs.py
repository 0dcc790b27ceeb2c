"""The directory store's own promises: nothing outside its root, whole files only, sidecars hidden."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from makefx_storage import FsStore, InvalidKey, ObjectNotFound


@pytest.fixture
async def fs(tmp_path: Path) -> FsStore:
    store = FsStore(tmp_path / "root")
    await store.start()
    return store


@pytest.mark.parametrize(
    "key",
    [
        "../outside",
        "images/../../outside",
        "/tmp/outside",
        "images/./v1.png",
        "images\\..\\..\\outside",
        "images/s1/v1.png\x00.txt",
        "images/s1/.v1.png.meta",
        "C:/windows",
        "images/s1/v 1.png",
    ],
)
async def test_keys_that_could_leave_the_root_or_hide_are_refused(fs: FsStore, key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidKey):
        await fs.put(key, b"x")
    assert not (tmp_path / "outside").exists()


async def test_a_symlink_pointing_outside_the_root_is_not_followed(fs: FsStore, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"secret")
    (fs.root / "images").mkdir()
    os.symlink(outside, fs.root / "images" / "s1")
    with pytest.raises(InvalidKey):
        await fs.get("images/s1/secret.png")
    with pytest.raises(InvalidKey):
        await fs.put("images/s1/planted.png", b"x")
    assert not (outside / "planted.png").exists()


async def test_a_failed_upload_leaves_neither_the_object_nor_a_temporary_file(fs: FsStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"first part"
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await fs.put("staging/s1/v1", broken())
    assert not await fs.exists("staging/s1/v1")
    assert list((fs.root / "staging" / "s1").iterdir()) == []


async def test_an_upload_in_progress_does_not_replace_the_old_object(fs: FsStore) -> None:
    await fs.put("images/s1/v1.png", b"old", content_type="image/png")
    seen: list[bytes] = []

    async def slow() -> AsyncIterator[bytes]:
        yield b"new "
        seen.append(await (await fs.get("images/s1/v1.png")).read())
        yield b"bytes"

    await fs.put("images/s1/v1.png", slow(), content_type="image/png")
    assert seen == [b"old"]
    assert await (await fs.get("images/s1/v1.png")).read() == b"new bytes"


async def test_a_symlink_to_another_folder_inside_the_root_is_followed(fs: FsStore) -> None:
    await fs.put("images/s1/v1.png", b"inside", content_type="image/png")
    os.symlink(fs.root / "images" / "s1", fs.root / "images" / "alias")

    assert await (await fs.get("images/alias/v1.png")).read() == b"inside"
    await fs.put("images/alias/v2.png", b"also inside")
    assert await (await fs.get("images/s1/v2.png")).read() == b"also inside"


async def test_a_prefix_cut_inside_a_name_lists_the_matching_objects_and_folders_only(fs: FsStore) -> None:
    for key in ("images/s1/v1.png", "images/s1/v1/deeper.png", "images/s1/v2.png", "images/s10/v1.png"):
        await fs.put(key, b"x")

    assert [key async for key in fs.list_keys("images/s1/v1")] == ["images/s1/v1.png", "images/s1/v1/deeper.png"]
    assert [key async for key in fs.list_keys("images/s1")] == [
        "images/s1/v1.png",
        "images/s1/v1/deeper.png",
        "images/s1/v2.png",
        "images/s10/v1.png",
    ]
    assert [key async for key in fs.list_keys("ima")] == [key async for key in fs.list_keys("")]
    assert [key async for key in fs.list_keys("images/s2/")] == []


async def test_sidecars_and_temporary_files_are_not_listed(fs: FsStore) -> None:
    await fs.put("images/s1/v1.png", b"x", content_type="image/png")
    (fs.root / "images" / "s1" / ".v2.png.abc.tmp").write_bytes(b"partial")
    assert [key async for key in fs.list_keys("")] == ["images/s1/v1.png"]


async def test_a_file_placed_by_hand_gets_its_type_from_its_extension(fs: FsStore) -> None:
    (fs.root / "images" / "s1").mkdir(parents=True)
    (fs.root / "images" / "s1" / "v1.webp").write_bytes(b"RIFF....WEBP")
    info = await fs.stat("images/s1/v1.webp")
    assert (info.size, info.content_type) == (12, "image/webp")
    assert info.etag


async def test_a_directory_is_not_an_object(fs: FsStore) -> None:
    await fs.put("images/s1/v1.png", b"x")
    with pytest.raises(ObjectNotFound):
        await fs.stat("images/s1")
    with pytest.raises(ObjectNotFound):
        await fs.get("images/s1")
    with pytest.raises(ObjectNotFound):
        await fs.stat("images/s1/v1.png/deeper")


async def test_the_local_path_is_the_file_under_the_root(fs: FsStore) -> None:
    await fs.put("media/s1/v1.mp3", b"ID3")
    path = fs.local_path("media/s1/v1.mp3")
    assert path is not None and path.read_bytes() == b"ID3"
    assert path.is_relative_to(fs.root)


async def test_it_cannot_sign_urls(fs: FsStore) -> None:
    assert await fs.presigned_get("images/s1/v1.png", timedelta(minutes=1)) is None
    assert await fs.presigned_put("staging/s1/v1", timedelta(minutes=1)) is None
