"""HTTP Range headers resolved against an object's size."""

from __future__ import annotations

import pytest

from makefx_storage import ByteRange, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=10-", ByteRange(10, 99)),
        ("bytes=90-500", ByteRange(90, 99)),
        ("bytes=-10", ByteRange(90, 99)),
        ("bytes=-1000", ByteRange(0, 99)),
        ("Bytes = 5 - 6", ByteRange(5, 6)),
    ],
)
def test_one_range_is_resolved_against_the_size(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", [None, "", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes=0-1,5-6"])
def test_a_header_we_do_not_serve_means_the_whole_object(header: str | None) -> None:
    assert parse_range(header, 100) is None


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=100-200", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_a_range_past_the_end_is_not_satisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as refused:
        parse_range(header, size)
    assert refused.value.size == size


def test_content_range_names_the_bytes_and_the_size() -> None:
    assert ByteRange(0, 9).content_range(100) == "bytes 0-9/100"
    assert ByteRange(0, 9).length == 10
    with pytest.raises(ValueError):
        ByteRange(5, 4)
