"""Who is in each space, kept in gateway memory and shared between gateways over core NATS.

Each gateway announces its own connections per space (`PresenceBeacon`) when they change
and every `ttl/3`; it merges other gateways' beacons until they expire. Nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from makefx_contracts.presence import PresenceBeacon, PresenceEntry


@dataclass
class _Remote:
    entries: list[PresenceEntry]
    expires_at: float


@dataclass
class PresenceBoard:
    gateway_id: str
    ttl_ms: int = 15_000
    _remote: dict[str, dict[str, _Remote]] = field(default_factory=dict)

    def beacon(self, space_id: str, local: Iterable[PresenceEntry]) -> PresenceBeacon:
        return PresenceBeacon(space_id=space_id, gateway_id=self.gateway_id, entries=list(local), ttl_ms=self.ttl_ms)

    def is_news(self, beacon: PresenceBeacon) -> bool:
        """A beacon from a gateway not known here to have anyone in the space: it does not know us either."""
        return (
            beacon.gateway_id != self.gateway_id
            and bool(beacon.entries)
            and beacon.gateway_id not in self._remote.get(beacon.space_id, {})
        )

    def absorb(self, beacon: PresenceBeacon, *, now: float | None = None) -> bool:
        """Take another gateway's beacon; True when what the space shows changed.

        An empty beacon means that gateway has left the space: it is forgotten, so that when
        it comes back its first beacon is news again.
        """
        if beacon.gateway_id == self.gateway_id:
            return False
        if not beacon.entries:
            gateways = self._remote.get(beacon.space_id, {})
            gone = gateways.pop(beacon.gateway_id, None)
            if not gateways:
                self._remote.pop(beacon.space_id, None)
            return gone is not None
        now = time.monotonic() if now is None else now
        space = self._remote.setdefault(beacon.space_id, {})
        before = space.get(beacon.gateway_id)
        space[beacon.gateway_id] = _Remote(beacon.entries, now + beacon.ttl_ms / 1000)
        return before is None or before.entries != beacon.entries

    def expire(self, *, now: float | None = None) -> set[str]:
        """Forget beacons past their ttl; the spaces whose presence changed."""
        now = time.monotonic() if now is None else now
        changed = set()
        for space_id, gateways in list(self._remote.items()):
            for gateway_id, remote in list(gateways.items()):
                if remote.expires_at <= now:
                    del gateways[gateway_id]
                    changed.add(space_id)
            if not gateways:
                del self._remote[space_id]
        return changed

    def forget(self, space_id: str) -> None:
        self._remote.pop(space_id, None)

    def merged(self, space_id: str, local: Iterable[PresenceEntry]) -> list[PresenceEntry]:
        """Everyone in the space across gateways, one entry per user, sorted by name."""
        by_user: dict[str, PresenceEntry] = {}
        sources = [list(local), *(remote.entries for remote in self._remote.get(space_id, {}).values())]
        for entries in sources:
            for entry in entries:
                known = by_user.get(entry.user_id)
                if known is None:
                    by_user[entry.user_id] = entry
                else:
                    by_user[entry.user_id] = known.model_copy(
                        update={
                            "connections": known.connections + entry.connections,
                            "viewing": known.viewing or entry.viewing,
                        }
                    )
        return sorted(by_user.values(), key=lambda entry: (entry.name.lower(), entry.user_id))


def local_entries(connections: Iterable[tuple[str, str, str | None]]) -> list[PresenceEntry]:
    """(user id, name, viewing) per connection -> one entry per user, the latest view wins.

    Counted in plain lists, one model per user at the end: every join reads the room's
    presence, so a model copy per connection made 1,000 joins cost ~500,000 copies.
    """
    by_user: dict[str, list] = {}  # user id -> [name, viewing, connections]
    for user_id, name, viewing in connections:
        known = by_user.get(user_id)
        if known is None:
            by_user[user_id] = [name, viewing, 1]
        else:
            known[2] += 1
            if viewing:
                known[1] = viewing
    return [
        PresenceEntry(user_id=user_id, name=name, viewing=viewing, connections=count)
        for user_id, (name, viewing, count) in by_user.items()
    ]
