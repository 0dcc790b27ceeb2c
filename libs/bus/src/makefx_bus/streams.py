"""JetStream streams and KV buckets, created idempotently at start (decisions: docs/decisions/0003)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from makefx_contracts import subjects
from makefx_settings import ServiceSettings

log = logging.getLogger(__name__)

_DAY = 24 * 3600.0
_STREAM_NAME_IN_USE = 10058


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    retention: RetentionPolicy
    max_age_seconds: float
    duplicate_window_seconds: float
    max_bytes: int = -1
    max_msgs: int = -1
    discard: DiscardPolicy = DiscardPolicy.OLD
    storage: StorageType = StorageType.FILE
    replicas: int = 1
    why: str = ""

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.why,
            subjects=list(self.subjects),
            retention=self.retention,
            max_age=self.max_age_seconds,
            duplicate_window=self.duplicate_window_seconds,
            max_bytes=self.max_bytes,
            max_msgs=self.max_msgs,
            discard=self.discard,
            storage=self.storage,
            num_replicas=self.replicas,
            allow_direct=True,
        )


@dataclass(frozen=True)
class BucketSpec:
    name: str
    ttl_seconds: float | None
    storage: StorageType
    history: int = 1
    replicas: int = 1
    why: str = ""

    def config(self) -> KeyValueConfig:
        return KeyValueConfig(
            bucket=self.name,
            description=self.why,
            ttl=self.ttl_seconds,
            history=self.history,
            storage=self.storage,
            replicas=self.replicas,
        )


def stream_specs(settings: ServiceSettings) -> list[StreamSpec]:
    replicas = settings.stream_replicas
    return [
        StreamSpec(
            name=subjects.STREAM_SPACE_EVENTS,
            subjects=(subjects.SPACE_EVENTS.wildcard,),
            retention=RetentionPolicy.LIMITS,
            max_age_seconds=settings.space_events_max_age_days * _DAY,
            max_bytes=settings.space_events_max_bytes,
            # Republishing an event after a crash reuses `<spaceId>:<seq>` and is dropped.
            duplicate_window_seconds=300,
            replicas=replicas,
            why="Every committed space change in order; fan-out to gateways and replay after handoff.",
        ),
        StreamSpec(
            name=subjects.STREAM_GENERATION_JOBS,
            subjects=(subjects.GENERATION_JOBS.wildcard,),
            retention=RetentionPolicy.WORK_QUEUE,
            max_age_seconds=_DAY,
            # A job is `<variantId>:<attempt>`; a second enqueue of the same attempt is dropped.
            duplicate_window_seconds=3600,
            max_msgs=1_000_000,
            # A full queue refuses new jobs loudly instead of silently dropping old ones.
            discard=DiscardPolicy.NEW,
            replicas=replicas,
            why="One job per variant attempt, consumed once by a generation worker.",
        ),
        StreamSpec(
            name=subjects.STREAM_CHAT,
            subjects=(subjects.CHAT_REQUESTS.fill(),),
            retention=RetentionPolicy.WORK_QUEUE,
            max_age_seconds=3600,
            duplicate_window_seconds=300,
            max_msgs=100_000,
            discard=DiscardPolicy.NEW,
            replicas=replicas,
            why="Chat turns to answer; stale ones (older than an hour) are not worth answering.",
        ),
        StreamSpec(
            name=subjects.STREAM_USAGE,
            subjects=(subjects.USAGE_EVENTS.fill(),),
            retention=RetentionPolicy.LIMITS,
            max_age_seconds=30 * _DAY,
            duplicate_window_seconds=24 * 3600,
            replicas=replicas,
            why="Metered usage, kept a month so billing can catch up after any outage.",
        ),
    ]


def bucket_specs(settings: ServiceSettings) -> list[BucketSpec]:
    return [
        BucketSpec(
            name=subjects.KV_STATE_REPLICAS,
            ttl_seconds=settings.replica_heartbeat_ttl_seconds,
            # Liveness only: after a NATS restart the replicas heartbeat again within a beat.
            storage=StorageType.MEMORY,
            replicas=settings.stream_replicas,
            why="Live space-state replicas; an entry expires when its replica stops heartbeating.",
        ),
        BucketSpec(
            name=subjects.KV_SPACE_OWNERS,
            ttl_seconds=None,
            storage=StorageType.FILE,
            replicas=settings.stream_replicas,
            why="The replica holding each space's lease, changed only by compare-and-set.",
        ),
    ]


async def provision(js: JetStreamContext, settings: ServiceSettings) -> None:
    """Create or update every stream and bucket; safe to run from every process at every start."""
    for stream in stream_specs(settings):
        await _ensure_stream(js, stream.config())
    for bucket in bucket_specs(settings):
        config = bucket.config()
        try:
            await js.create_key_value(config)
        except BadRequestError as error:
            if error.err_code != _STREAM_NAME_IN_USE:
                raise
            # A bucket is the stream KV_<name>; reconcile its settings as for any stream.
            info = await js.stream_info(f"KV_{bucket.name}")
            wanted = info.config
            wanted.max_age = bucket.ttl_seconds or 0
            wanted.description = bucket.why
            await js.update_stream(wanted)


async def _ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError as error:
        if error.err_code != _STREAM_NAME_IN_USE:
            raise
        log.info("updating stream %s to the declared configuration", config.name)
        await js.update_stream(config)


async def missing_resources(js: JetStreamContext, settings: ServiceSettings) -> list[str]:
    """Names of declared streams and buckets the server does not have (for readiness)."""
    names = [s.name for s in stream_specs(settings)] + [f"KV_{b.name}" for b in bucket_specs(settings)]
    missing = []
    for name in names:
        try:
            await js.stream_info(name)
        except NotFoundError:
            missing.append(name)
    return missing
