"""Retrying a provider call inside one attempt: 429 and 5xx back off and try again; anything else is final."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from makefx_generation.providers.base import ProviderRejected, ProviderUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


class Transient(Exception):
    """A failure worth another try (rate limited, server error, malformed answer); `message` is user-readable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def with_retries(call: Callable[[], Awaitable[T]], *, retries: int, backoff_seconds: float, what: str) -> T:
    """`call()`, tried again after `Transient` up to `retries` times with exponential backoff.

    `ProviderRejected` passes straight through; the last `Transient` becomes `ProviderUnavailable`.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except ProviderRejected:
            raise
        except Transient as error:
            if attempt >= retries:
                raise ProviderUnavailable(error.message) from error
            delay = backoff_seconds * 2**attempt
            attempt += 1
            log.warning("%s: %s; try %d of %d in %.1fs", what, error.message, attempt + 1, retries + 1, delay)
            await asyncio.sleep(delay)
