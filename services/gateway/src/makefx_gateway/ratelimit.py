"""Sliding-window counters for login attempts, kept in this process's memory.

Each gateway process counts on its own: with N gateways behind a load balancer an
attacker gets up to N times the limit. A shared store (Redis, NATS KV) is the later
improvement; the interface stays the same.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` hits per key within any `window_seconds`."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until `key` may hit again, or None when it may now."""
        hits = self._current(key, self.clock())
        if len(hits) < self.limit:
            return None
        return max(1, math.ceil(hits[0] + self.window - self.clock()))

    def hit(self, key: str) -> None:
        now = self.clock()
        hits = self._current(key, now)
        hits.append(now)
        self._hits[key] = hits
        if len(self._hits) > self.max_keys:
            self._sweep(now)

    def _current(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            self._hits.pop(key, None)
        return hits

    def _sweep(self, now: float) -> None:
        for key in list(self._hits):
            self._current(key, now)


class LoginLimits:
    """Login attempts counted per account (email) and per client address."""

    def __init__(self, per_email: SlidingWindow, per_address: SlidingWindow) -> None:
        self.per_email = per_email
        self.per_address = per_address

    def retry_after(self, email: str, address: str) -> tuple[str, int] | None:
        """Which limit is exhausted ("address" or "account") and for how long, or None."""
        for scope, window, key in (("address", self.per_address, address), ("account", self.per_email, email)):
            wait = window.retry_after(key)
            if wait is not None:
                return scope, wait
        return None

    def hit(self, email: str, address: str) -> None:
        self.per_email.hit(email)
        self.per_address.hit(address)
