"""Open spaces: opened on first use, closed when idle, checked for ownership on every use."""

from __future__ import annotations

import asyncio

import pytest

from makefx_contracts.errors import Moved
from makefx_contracts.space import GetSpaceState
from makefx_space_state.errors import SpaceClosing
from makefx_space_state.publisher import BusEventPublisher


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Leases:
    """The ownership port as the router will fill it: owns what it was given, records releases."""

    def __init__(self, owned: set[str]) -> None:
        self.owned = owned
        self.checks: list[str] = []
        self.released_ids: list[str] = []

    async def ensure_owner(self, space_id: str) -> None:
        self.checks.append(space_id)
        if space_id not in self.owned:
            raise Moved(f"space {space_id} is owned elsewhere", details={"owner": "state-1"})

    async def released(self, space_id: str) -> None:
        self.released_ids.append(space_id)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def leases(world):
    return Leases({world.space_id})


@pytest.fixture
def replica(tmp_path, bus, make_world, world, clock, leases):
    return make_world(
        tmp_path / "leased",
        BusEventPublisher(bus),
        space_id=world.space_id,
        ownership=leases,
        space_clock=clock,
        idle_close_seconds=300,
    )


async def test_a_space_opens_on_first_use_and_every_use_checks_ownership(replica, leases):
    assert not replica.spaces.is_open(replica.space_id)
    await replica.create_asset()
    await replica.state()
    assert replica.spaces.open_space_ids == [replica.space_id]
    assert leases.checks == [replica.space_id] * 2


async def test_a_space_owned_elsewhere_is_refused_with_moved_and_not_opened(replica, leases):
    leases.owned.clear()
    with pytest.raises(Moved) as moved:
        await replica.create_asset()
    assert moved.value.owner == "state-1"
    assert not replica.spaces.is_open(replica.space_id)


async def test_idle_spaces_close_and_release_their_lease_but_busy_ones_stay(replica, clock, leases):
    await replica.create_asset()
    clock.now += 299
    assert await replica.spaces.close_idle() == []

    async with replica.spaces.use(replica.space_id):
        clock.now += 1000
        assert await replica.spaces.close_idle() == []  # in use

    clock.now += 300
    assert await replica.spaces.close_idle() == [replica.space_id]
    assert not replica.spaces.is_open(replica.space_id)
    assert leases.released_ids == [replica.space_id]
    assert await replica.seq() == 1  # reopens with everything it had


async def test_closing_waits_for_the_command_in_flight(replica):
    await replica.create_asset()
    space = replica.spaces.get(replica.space_id)
    await space.lock.acquire()  # a command holds the space
    closing = asyncio.create_task(replica.spaces.close(replica.space_id))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not closing.done()

    space.lock.release()
    await asyncio.wait_for(closing, timeout=30)
    assert not replica.spaces.is_open(replica.space_id)


async def test_after_close_all_no_space_opens(replica, leases):
    await replica.create_asset()
    await replica.spaces.close_all()
    assert leases.released_ids == [replica.space_id]
    with pytest.raises(SpaceClosing):
        await replica.service.get_state(GetSpaceState(space_id=replica.space_id))
