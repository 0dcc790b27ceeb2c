"""Rendezvous (highest-random-weight) hashing: which live replica owns a space. Pure, no I/O.

Every replica scores every space with `blake2b(replica_id + b"\\0" + space_id)` (8-byte
digest, personalised "makefx-ring"); the highest score owns the space. The answer depends
only on the set of replica ids, so every process computes the same owner, and when a
replica joins or leaves only the spaces it wins or held move (about 1/N of them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from makefx_contracts.errors import Unavailable

_PERSON = b"makefx-ring"
_DIGEST_SIZE = 8


class Ring:
    """An immutable view of the live replicas, answering `owner_of(space_id)` in O(N)."""

    __slots__ = ("_replicas", "_scorers")

    def __init__(self, replicas: Iterable[str] = ()) -> None:
        self._replicas = tuple(sorted(set(replicas)))
        # Hash the replica's prefix once; each lookup only copies that state and feeds the space id.
        self._scorers = tuple(
            (hashlib.blake2b(replica.encode() + b"\0", digest_size=_DIGEST_SIZE, person=_PERSON), replica)
            for replica in self._replicas
        )

    @property
    def replicas(self) -> tuple[str, ...]:
        """The replica ids, sorted."""
        return self._replicas

    def owner_of(self, space_id: str) -> str:
        """The replica that should own `space_id`; raises `Unavailable` when no replica is live."""
        if not self._scorers:
            raise Unavailable("no space-state replica is live", details={"spaceId": space_id})
        key = space_id.encode()
        best_score = b""
        best = ""
        # Iterating in sorted order with a strict `>` breaks (astronomically rare) ties by the smallest id.
        for scorer, replica in self._scorers:
            hashed = scorer.copy()
            hashed.update(key)
            score = hashed.digest()
            if score > best_score:
                best_score, best = score, replica
        return best

    def owners_of(self, space_ids: Iterable[str]) -> dict[str, str]:
        """`owner_of` for many spaces at once: `{space_id: replica_id}`."""
        return {space_id: self.owner_of(space_id) for space_id in space_ids}

    def ranked(self, space_id: str) -> list[str]:
        """Every replica in preference order for `space_id`: the owner first, then who takes over next."""
        key = space_id.encode()
        scored = []
        for scorer, replica in self._scorers:
            hashed = scorer.copy()
            hashed.update(key)
            scored.append((hashed.digest(), replica))
        # A stable sort over the id-sorted scorers keeps the smaller id first on a tie, as `owner_of` does.
        scored.sort(key=lambda pair: pair[0], reverse=True)
        return [replica for _, replica in scored]

    def __contains__(self, replica_id: object) -> bool:
        return replica_id in self._replicas

    def __len__(self) -> int:
        return len(self._replicas)

    def __iter__(self) -> Iterator[str]:
        return iter(self._replicas)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ring) and other._replicas == self._replicas

    def __hash__(self) -> int:
        return hash(self._replicas)

    def __repr__(self) -> str:
        return f"Ring({list(self._replicas)!r})"
