"""Presence: who is in a space and what each is viewing. Kept in gateway memory, never stored."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from makefx_contracts.base import Message, Model, Subject
from makefx_contracts.subjects import PRESENCE


class PresenceEntry(Model):
    user_id: str
    name: str
    viewing: str | None = None
    connections: int = Field(default=1, ge=1)


class PresenceBeacon(Message):
    """One gateway's local presence for a space, on core NATS; stale after `ttl_ms`."""

    type: Literal["presence:beacon"] = "presence:beacon"
    subject: ClassVar[Subject] = PRESENCE
    space_id: str
    gateway_id: str
    entries: list[PresenceEntry]
    ttl_ms: int = Field(default=15_000, gt=0)
