"""`SpaceRouter`: send a command for a space to the replica that owns it, following `moved` and failover."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TypeVar

from makefx_bus import Bus
from makefx_contracts import Message, Request
from makefx_contracts.errors import Moved, Unavailable
from makefx_router.replicas import ReplicaDirectory, replica_subject

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Message)

_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 1.0
_MAX_HINTS = 10_000


class SpaceRouter:
    """Routes commands to `fx.state.<owner>.cmd`, where the owner comes from the ring.

    The replica asked may answer `moved`: it does not hold the space's lease. Its
    `details.owner` names the holder, which is asked next (and remembered for the space
    until the ring changes); without a usable name the directory is refreshed. When
    nothing answers (the replica just died) or a replica is unavailable, the router
    refreshes, backs off and tries again until `deadline_seconds`, then raises
    `Unavailable`. Because a timed-out command may have been applied, commands must be
    idempotent (space-state remembers the request ids it applied).
    """

    def __init__(self, bus: Bus, directory: ReplicaDirectory, *, deadline_seconds: float = 10.0) -> None:
        self._bus = bus
        self._directory = directory
        self.deadline_seconds = deadline_seconds
        # space id -> the replica a `moved` named; valid for one ring version.
        self._hints: OrderedDict[str, str] = OrderedDict()
        self._hints_version = directory.version

    async def request(
        self,
        space_id: str,
        command: Request[R],
        *,
        timeout: float | None = None,
        deadline_seconds: float | None = None,
    ) -> R:
        """Send `command` for `space_id` to its owner; return the typed reply or raise its `FxError`.

        `timeout` bounds each attempt (default: the bus's request timeout);
        `deadline_seconds` bounds all of them together.
        """
        started = time.monotonic()
        deadline = started + (deadline_seconds if deadline_seconds is not None else self.deadline_seconds)
        attempt_timeout = timeout or self._bus.settings.request_timeout_seconds
        backoff = _FIRST_BACKOFF
        attempts = 0
        followed_hint = False
        last_error: Exception | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Unavailable(
                    f"no replica answered for space {space_id} within the deadline",
                    details={"spaceId": space_id, "attempts": attempts, "lastError": repr(last_error)},
                ) from last_error
            attempts += 1
            try:
                replica = self._replica_for(space_id)
                return await self._bus.request(
                    command,
                    subject=replica_subject(replica),
                    timeout=min(attempt_timeout, remaining),
                    # This loop asks again itself, after looking at the directory: a replica with no
                    # responder is more likely gone than restarting, and its spaces are elsewhere.
                    wait_for_responders=False,
                )
            except Moved as moved:
                last_error = moved
                if self._follow_hint(space_id, moved, asked=replica) and not followed_hint:
                    followed_hint = True
                    continue  # the holder is named and live: ask it at once (once; then back off)
                log.debug("space %s: %s answered moved; refreshing the directory", space_id, replica)
            except Unavailable as unavailable:
                last_error = unavailable
                self._forget_hint(space_id)
                log.debug("space %s: attempt %d failed: %s", space_id, attempts, unavailable.message)
            version = self._directory.version
            await self._refresh_quietly()
            if self._directory.version != version:
                backoff = _FIRST_BACKOFF
                continue
            # Nothing new yet: wait a little, or less if the live set changes meanwhile.
            if await self._directory.wait_for_change(min(backoff, max(deadline - time.monotonic(), 0))):
                # A new ring is a new situation: the replicas it names may not have seen it yet
                # (they answer `moved`), so start again from short waits rather than the longest.
                backoff = _FIRST_BACKOFF
            else:
                backoff = min(backoff * 2, _MAX_BACKOFF)

    # -- where to send it ---------------------------------------------------------------

    def _replica_for(self, space_id: str) -> str:
        self._drop_stale_hints()
        hinted = self._hints.get(space_id)
        if hinted is not None and self._directory.is_live(hinted):
            return hinted
        return self._directory.owner_of(space_id)

    def _follow_hint(self, space_id: str, moved: Moved, *, asked: str) -> bool:
        owner = moved.owner
        if not owner or owner == asked or not self._directory.is_live(owner):
            self._forget_hint(space_id)
            return False
        self._drop_stale_hints()
        self._hints[space_id] = owner
        self._hints.move_to_end(space_id)
        while len(self._hints) > _MAX_HINTS:
            self._hints.popitem(last=False)
        return True

    def _forget_hint(self, space_id: str) -> None:
        self._hints.pop(space_id, None)

    def _drop_stale_hints(self) -> None:
        # After the ring changes, leases follow it (owners hand spaces over): start from the ring again.
        if self._hints_version != self._directory.version:
            self._hints.clear()
            self._hints_version = self._directory.version

    async def _refresh_quietly(self) -> None:
        try:
            await self._directory.refresh()
        except Unavailable as error:
            log.warning("could not refresh the replica directory: %s", error.message)
