"""HTTP `Range: bytes=…` against an object of known size (RFC 9110 §14): one range or the whole object."""

from __future__ import annotations

import re

from makefx_storage.errors import RangeNotSatisfiable
from makefx_storage.store import ByteRange

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range to serve, or None to serve the whole object (`200`).

    A missing, malformed or multi-range header is ignored, which RFC 9110 allows; a
    range that starts at or past the end raises `RangeNotSatisfiable` (`416`).
    """
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in specs:
        return None
    match = _SPEC.match(specs)
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        if last and int(last) < start:
            return None
        if start >= size:
            raise RangeNotSatisfiable(size)
        end = min(int(last), size - 1) if last else size - 1
        return ByteRange(start, end)
    if not last:
        return None
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise RangeNotSatisfiable(size)
    return ByteRange(max(size - suffix, 0), size - 1)
