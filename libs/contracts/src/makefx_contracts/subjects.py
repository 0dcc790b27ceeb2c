"""Every subject, stream and KV bucket of the bus, declared once (ARCHITECTURE §3).

Messages point at these; streams, the AsyncAPI document and the NATS permissions
of each service are derived from them. No other file writes a subject string.
"""

from __future__ import annotations

from makefx_contracts.base import Subject

STATE_COMMANDS = Subject("fx.state.{replica}.cmd")
SPACE_EVENTS = Subject("fx.space.{space_id}.events")
PRESENCE = Subject("fx.presence.{space_id}")
MEMBERSHIP = Subject("fx.members.{space_id}")
GENERATION_JOBS = Subject("fx.gen.jobs.{media_kind}")
GENERATION_PROGRESS = Subject("fx.gen.progress.{space_id}")
CHAT_REQUESTS = Subject("fx.chat.requests")
CHAT_DELTAS = Subject("fx.chat.deltas.{space_id}")
USAGE_EVENTS = Subject("fx.usage.events")
MEDIA = Subject("fx.media.{op}")
IDENTITY = Subject("fx.identity.{op}")
BILLING = Subject("fx.billing.{op}")

# JetStream streams and the subjects each one captures.
STREAM_SPACE_EVENTS = "SPACE_EVENTS"
STREAM_GENERATION_JOBS = "GEN_JOBS"
STREAM_CHAT = "CHAT"
STREAM_USAGE = "USAGE"

# JetStream key-value buckets.
KV_STATE_REPLICAS = "fx_state_replicas"
KV_SPACE_OWNERS = "fx_space_owners"
