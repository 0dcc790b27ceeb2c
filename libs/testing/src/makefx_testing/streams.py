"""What a JetStream stream holds, read by a test the way a consumer would (waiting for it, never sleeping)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import nats
import nats.errors

_FETCH_WAIT_SECONDS = 1.0


async def stored_messages(
    nats_url: str, *, stream: str, subject: str, count: int, timeout: float = 30
) -> list[dict[str, Any]]:
    """The first `count` messages on `subject` in `stream` (waiting for them), checked to be all there is.

    Each is its JSON body with its idempotency key (`Nats-Msg-Id`) as `msgId`. An ephemeral
    consumer reads them, so the service's own durable consumers are left as they were.
    """
    client = await nats.connect(nats_url)
    try:
        subscription = await client.jetstream().pull_subscribe(subject, stream=stream)
        messages: list[Any] = []
        async with asyncio.timeout(timeout):
            while len(messages) < count:
                with contextlib.suppress(nats.errors.TimeoutError):
                    messages += await subscription.fetch(count - len(messages), timeout=_FETCH_WAIT_SECONDS)
        with contextlib.suppress(nats.errors.TimeoutError):
            extra = await subscription.fetch(1, timeout=_FETCH_WAIT_SECONDS)
            raise AssertionError(f"more messages than {count} in {stream}: {extra[0].data!r}")
        return [json.loads(message.data) | {"msgId": message.headers.get("Nats-Msg-Id")} for message in messages]
    finally:
        await client.close()
