"""A full state larger than one bus message is handed out in parts of one consistent read."""

import json

import pytest

from makefx_contracts.errors import NotFound
from makefx_space_state.state_parts import PART_CHARS, StateParts


def body_of(size: int) -> bytes:
    names = ",".join(json.dumps({"id": f"a{i}", "name": "x" * 90}) for i in range(size))
    return f'{{"assets":[{names}],"variants":[],"lineage":[]}}'.encode()


def test_a_small_state_is_one_part_and_is_not_kept():
    parts = StateParts()
    first = parts.first("spc", 7, body_of(3))
    assert (first.part, first.parts, first.seq) == (0, 1, 7)
    assert json.loads(first.body)["assets"][2]["id"] == "a2"
    with pytest.raises(NotFound):
        parts.part("spc", first.snapshot_id, 0)


def test_a_large_state_joins_back_into_the_exact_document():
    body = body_of(10_000)
    parts = StateParts()
    first = parts.first("spc", 42, body)
    assert first.parts == -(-len(body) // PART_CHARS) > 1
    rest = [parts.part("spc", first.snapshot_id, index) for index in range(1, first.parts)]
    assert {part.seq for part in rest} == {42}
    assert (first.body + "".join(part.body for part in rest)).encode() == body
    assert all(len(part.to_json()) < 1024 * 1024 for part in [first, *rest])


def test_a_part_of_another_space_or_an_expired_read_is_refused():
    parts = StateParts(ttl_seconds=0)
    first = parts.first("spc", 1, body_of(5_000))
    with pytest.raises(NotFound, match="expired"):
        parts.part("spc", first.snapshot_id, 1)
    kept = StateParts().first("spc", 1, body_of(5_000))
    with pytest.raises(NotFound):
        StateParts().part("other", kept.snapshot_id, 1)
