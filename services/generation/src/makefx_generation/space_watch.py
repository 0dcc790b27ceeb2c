"""Watching the spaces of running jobs, so a cancel (or a delete) stops a provider call at once.

Each space with a running job here has one core subscription on its events
(`fx.space.<spaceId>.events`, what the owner publishes to `SPACE_EVENTS`), shared by the
jobs of that space and dropped when its last job ends. An attempt ends when its variant
is updated to `failed` (cancel) by this attempt or moves to a later attempt, or when the variant or its asset is
deleted. A lost event costs only time: the owner refuses the attempt's next report anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import nats.errors
from nats.aio.msg import Msg

from makefx_bus import Bus
from makefx_contracts.generation import GenerationJob, parse_job_id
from makefx_contracts.rows import VariantStatus
from makefx_contracts.subjects import SPACE_EVENTS

log = logging.getLogger(__name__)


@dataclass
class _Attempt:
    job: GenerationJob
    ended: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _WatchedSpace:
    attempts: dict[str, list[_Attempt]] = field(default_factory=dict)
    subscription: Any = None


def ends(event: dict[str, Any], job: GenerationJob) -> bool:
    """Whether a space event ends the job's attempt: its variant failed, moved to another attempt, or is gone."""
    match event.get("type"):
        case "variant:updated":
            variant = event.get("variant") or {}
            if variant.get("id") != job.variant_id:
                return False
            # A late event of an earlier attempt (its `failed`, say) says nothing about this one.
            of = parse_job_id(variant.get("workflow_id"))
            attempt = of[1] if of is not None else None
            if attempt is None or attempt > job.attempt:
                return True
            return attempt == job.attempt and variant.get("status") == VariantStatus.FAILED.value
        case "variant:deleted":
            return event.get("variantId") == job.variant_id
        case "asset:deleted":
            return event.get("assetId") == job.asset_id
    return False


class SpaceWatch:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._spaces: dict[str, _WatchedSpace] = {}

    @contextlib.asynccontextmanager
    async def attempt(self, job: GenerationJob) -> AsyncIterator[asyncio.Event]:
        """An event set when the attempt ends elsewhere, while the block runs."""
        attempt = _Attempt(job)
        space = self._spaces.get(job.space_id)
        first = space is None
        if space is None:
            space = self._spaces[job.space_id] = _WatchedSpace()
        space.attempts.setdefault(job.variant_id, []).append(attempt)
        try:
            if first:

                async def on_event(message: Msg) -> None:
                    self._on_event(space, message)

                space.subscription = await self.bus.nats.subscribe(
                    SPACE_EVENTS.fill(space_id=job.space_id), cb=on_event
                )
            yield attempt.ended
        finally:
            waiting = space.attempts.get(job.variant_id, [])
            if attempt in waiting:
                waiting.remove(attempt)
            if not waiting:
                space.attempts.pop(job.variant_id, None)
            if not space.attempts and self._spaces.get(job.space_id) is space:
                del self._spaces[job.space_id]
                if space.subscription is not None:
                    with contextlib.suppress(nats.errors.Error):
                        await space.subscription.unsubscribe()

    def _on_event(self, space: _WatchedSpace, message: Msg) -> None:
        if not space.attempts:
            return
        try:
            event = json.loads(message.data)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        variant_id = (event.get("variant") or {}).get("id") or event.get("variantId")
        # A variant's event concerns its own attempts; an asset's deletion may concern any.
        by_variant = [space.attempts.get(variant_id, [])] if variant_id is not None else None
        for attempts in by_variant or list(space.attempts.values()):
            for attempt in list(attempts):
                if not attempt.ended.is_set() and ends(event, attempt.job):
                    log.info("job %s ended by %s", attempt.job.id, event.get("type"))
                    attempt.ended.set()
