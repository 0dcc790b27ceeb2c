"""Rendezvous hashing: deterministic, balanced, and moving only ~1/N of spaces on a membership change."""

from __future__ import annotations

from collections import Counter

import pytest

from makefx_contracts.errors import Unavailable
from makefx_router import Ring

REPLICAS = ["space-state-0", "space-state-1", "space-state-2"]


def spaces(count: int) -> list[str]:
    return [f"0194f3b2-{n:04x}-7000-8000-{n * 7919:012x}" for n in range(count)]


def test_owner_does_not_depend_on_the_order_replicas_are_listed_in() -> None:
    forwards, backwards = Ring(REPLICAS), Ring(reversed(REPLICAS))
    assert forwards == backwards
    assert all(forwards.owner_of(space) == backwards.owner_of(space) for space in spaces(1000))


# Recorded once. If this changes, every process of a rolling deploy disagrees about every space.
RECORDED = {
    "space-1": "space-state-0",
    "space-2": "space-state-0",
    "space-3": "space-state-1",
    "space-4": "space-state-0",
    "space-5": "space-state-1",
    "space-6": "space-state-1",
    "space-7": "space-state-0",
    "space-8": "space-state-1",
    "space-9": "space-state-0",
    "space-10": "space-state-2",
    "space-11": "space-state-1",
    "space-12": "space-state-1",
}


def test_owners_match_the_recorded_assignment_so_every_process_and_release_agrees() -> None:
    assert Ring(REPLICAS).owners_of(RECORDED) == RECORDED


@pytest.mark.parametrize(("count", "low", "high"), [(300, 70, 130), (10_000, 3000, 3667)])
def test_spaces_spread_evenly_over_three_replicas(count: int, low: int, high: int) -> None:
    load = Counter(Ring(REPLICAS).owners_of(spaces(count)).values())
    assert set(load) == set(REPLICAS)
    assert all(low <= n <= high for n in load.values()), load


def test_a_fourth_replica_takes_about_a_quarter_of_the_spaces_and_nothing_else_moves() -> None:
    before = Ring(REPLICAS).owners_of(spaces(10_000))
    after = Ring([*REPLICAS, "space-state-3"]).owners_of(spaces(10_000))
    moved = [space for space in before if before[space] != after[space]]
    assert 0.18 <= len(moved) / 10_000 <= 0.32
    assert {after[space] for space in moved} == {"space-state-3"}


def test_removing_a_replica_moves_only_the_spaces_it_owned() -> None:
    before = Ring(REPLICAS).owners_of(spaces(10_000))
    after = Ring(REPLICAS[:2]).owners_of(spaces(10_000))
    moved = {space for space in before if before[space] != after[space]}
    assert moved == {space for space, owner in before.items() if owner == "space-state-2"}


def test_ranked_lists_the_owner_first_and_then_who_takes_over_when_it_leaves() -> None:
    ring = Ring(REPLICAS)
    for space in spaces(200):
        first, second, _ = ring.ranked(space)
        assert first == ring.owner_of(space)
        assert Ring(set(REPLICAS) - {first}).owner_of(space) == second


def test_an_empty_ring_has_no_owner_to_offer() -> None:
    with pytest.raises(Unavailable):
        Ring().owner_of("space-1")


def test_a_ring_of_one_owns_everything() -> None:
    assert set(Ring(["only"]).owners_of(spaces(100)).values()) == {"only"}
