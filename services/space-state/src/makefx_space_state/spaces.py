"""The spaces open on this replica: opened on first use, closed when idle, and the one ownership check."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from makefx_bus.tasks import cancel_and_wait
from makefx_space_state.domain import require_space_id
from makefx_space_state.errors import SpaceClosing
from makefx_space_state.ports import Ownership, SoleOwner, SpaceStore

log = logging.getLogger(__name__)

StoreOpener = Callable[[str], Awaitable[SpaceStore]]


@dataclass(eq=False)
class OpenSpace:
    """One space served here: its store, and the lock that keeps its commands (and their publication) in order."""

    space_id: str
    store: SpaceStore
    last_used: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    caught_up: bool = False
    """Whether events committed before this opening have been checked for publication."""


class SpaceUse:
    """One use of an open space (a class, not a generator: it sits on every command's path)."""

    __slots__ = ("_owned", "_space", "_space_id", "_spaces")

    def __init__(self, spaces: OpenSpaces, space_id: str, owned: bool) -> None:
        self._spaces = spaces
        self._space_id = space_id
        self._owned = owned
        self._space: OpenSpace | None = None

    async def __aenter__(self) -> OpenSpace:
        self._space = await self._spaces._enter(self._space_id, self._owned)
        return self._space

    async def __aexit__(self, *exc_info: object) -> None:
        if self._space is not None:
            self._spaces._leave(self._space)


class OpenSpaces:
    """Opens each space's store on first use and closes it after `idle_close_seconds` without use.

    Every use first asks `ownership.ensure_owner(space_id)` — the single point where the
    router's lease plugs in — and every close ends with `ownership.released(space_id)`.
    """

    def __init__(
        self,
        open_store: StoreOpener,
        *,
        ownership: Ownership | None = None,
        idle_close_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_store = open_store
        self.ownership: Ownership = ownership or SoleOwner()
        self.idle_close_seconds = idle_close_seconds
        self._clock = clock
        self._spaces: dict[str, OpenSpace] = {}
        # One gate per space while anyone needs it: opening, closing and restoring take turns.
        self._gates: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._closing = False
        self._idle_task: asyncio.Task[None] | None = None

    # -- use -------------------------------------------------------------------------------

    def use(self, space_id: str, *, owned: bool = False) -> SpaceUse:
        """`async with spaces.use(id) as space:` the open space, after checking this replica owns it.

        The space stays open while in use. `owned=True` skips the check, for the lease logic
        itself (restoring and replaying a space it is taking over, snapshotting one it hands off).
        """
        return SpaceUse(self, space_id, owned)

    async def _enter(self, space_id: str, owned: bool) -> OpenSpace:
        require_space_id(space_id)
        if self._closing:
            raise SpaceClosing("this replica is shutting down", details={"spaceId": space_id})
        if not owned:
            await self.ownership.ensure_owner(space_id)
        space = self._spaces.get(space_id) or await self._open(space_id)
        space.users += 1
        return space

    def _leave(self, space: OpenSpace) -> None:
        space.users -= 1
        space.last_used = self._clock()

    def is_open(self, space_id: str) -> bool:
        return space_id in self._spaces

    def get(self, space_id: str) -> OpenSpace | None:
        """The space if it is open here, without opening it or checking ownership."""
        return self._spaces.get(space_id)

    @property
    def open_space_ids(self) -> list[str]:
        return list(self._spaces)

    async def _open(self, space_id: str) -> OpenSpace:
        async with self._gate(space_id):
            space = self._spaces.get(space_id)
            if space is None:
                if self._closing:
                    raise SpaceClosing("this replica is shutting down", details={"spaceId": space_id})
                store = await self._open_store(space_id)
                space = self._spaces[space_id] = OpenSpace(space_id, store, last_used=self._clock())
                log.info("space %s opened at seq %d", space_id, store.last_seq)
            return space

    def _gate(self, space_id: str) -> asyncio.Lock:
        gate = self._gates.get(space_id)
        if gate is None:
            gate = self._gates[space_id] = asyncio.Lock()
        return gate

    # -- close -----------------------------------------------------------------------------

    async def close(self, space_id: str) -> None:
        """Close the space here (handoff, lease lost): waits for the command in flight, then releases."""
        async with self._gate(space_id):
            await self._close_locked(space_id)

    @contextlib.asynccontextmanager
    async def exclusive(self, space_id: str) -> AsyncIterator[None]:
        """The space closed here and kept closed while the block runs (to replace its file)."""
        require_space_id(space_id)
        async with self._gate(space_id):
            await self._close_locked(space_id, release=False)
            yield

    async def close_idle(self) -> list[str]:
        """Close every space unused for `idle_close_seconds`; returns their ids."""
        idle = [space.space_id for space in list(self._spaces.values()) if self._is_idle(space)]
        closed = []
        for space_id in idle:
            async with self._gate(space_id):
                space = self._spaces.get(space_id)
                if space is not None and self._is_idle(space):  # still idle once we hold the gate
                    await self._close_locked(space_id)
                    closed.append(space_id)
        return closed

    def _is_idle(self, space: OpenSpace) -> bool:
        return space.users == 0 and self._clock() - space.last_used >= self.idle_close_seconds

    async def close_all(self) -> None:
        """Stop opening spaces and close every open one (shutdown)."""
        self._closing = True
        await self.stop_idle_closer()
        for space_id in list(self._spaces):
            await self.close(space_id)

    async def _close_locked(self, space_id: str, *, release: bool = True) -> None:
        space = self._spaces.pop(space_id, None)
        if space is None:
            return
        try:
            async with space.lock:  # the command in flight finishes (and publishes) first
                await space.store.save_published_seq()
                await space.store.close()
        finally:
            log.info("space %s closed", space_id)
            if release:
                await self.ownership.released(space_id)

    # -- the idle closer -------------------------------------------------------------------

    def start_idle_closer(self) -> None:
        if self._idle_task is None:
            self._idle_task = asyncio.create_task(self._close_idle_forever(), name="space-state idle closer")

    async def stop_idle_closer(self) -> None:
        task, self._idle_task = self._idle_task, None
        await cancel_and_wait(task)

    async def _close_idle_forever(self) -> None:
        interval = max(1.0, min(30.0, self.idle_close_seconds / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.close_idle()
            except Exception:
                log.exception("closing idle spaces failed; retrying in %.0fs", interval)
