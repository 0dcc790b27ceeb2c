"""Stopping a background task for sure, even when one cancel is lost.

On Python 3.11, `asyncio.wait_for` (which nats-py waits with: a request's reply, a fetched
message, a key-value update) returns a result that arrives as it is cancelled instead of
raising `CancelledError`. The cancel is then lost, and a loop around such a wait goes on as
if nothing had happened: the `stop` that awaited it hangs, and a service with it.
"""

from __future__ import annotations

import asyncio

_AGAIN_AFTER_SECONDS = 0.5


async def cancel_and_wait(task: asyncio.Task[object] | None) -> None:
    """Cancel `task` and wait until it has ended, cancelling it again while a cancel was lost.

    How it ended (cancelled, a result, an exception) is left in the task for the caller to read.
    """
    while task is not None and not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=_AGAIN_AFTER_SECONDS)
