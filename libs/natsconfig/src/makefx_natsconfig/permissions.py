"""What each NATS user may publish and subscribe to, derived from `makefx_contracts.topology`.

A permission is a NATS subject pattern; everything not allowed is refused by the server
(it answers `-ERR 'Permissions Violation …'` and drops the message). The JetStream API
subjects below are the ones nats-py 2.x uses for our flows; `tests/deploy/test_nats_permissions.py`
runs each flow on a real nats-server with these permissions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nats.js.api import RetentionPolicy

from makefx_bus.streams import bucket_specs, stream_specs
from makefx_contracts.topology import SERVICES, ServiceTopology
from makefx_settings import ServiceSettings

_API = "$JS.API"
# Every request's reply and every consumer's deliveries arrive on the client's inbox.
_INBOX = "_INBOX.>"


@dataclass(frozen=True)
class Permissions:
    """Subjects a user may publish to and subscribe to; `None` means anything."""

    publish: tuple[str, ...] | None
    subscribe: tuple[str, ...] | None
    # Lets a responder answer on the asker's inbox without publishing to `_INBOX.>`,
    # so no service can forge a reply to a request it was not sent.
    allow_responses: bool = False

    @property
    def is_unrestricted(self) -> bool:
        return self.publish is None and self.subscribe is None


UNRESTRICTED = Permissions(publish=None, subscribe=None)


@dataclass(frozen=True)
class Resources:
    """The streams and buckets `makefx_bus.streams.provision` declares: names and retention."""

    streams: tuple[str, ...]
    work_queues: tuple[str, ...]
    buckets: tuple[str, ...]

    @classmethod
    def declared(cls) -> Resources:
        # Names and retention do not depend on settings; defaults are enough.
        settings = ServiceSettings()
        streams = stream_specs(settings)
        return cls(
            streams=tuple(s.name for s in streams),
            work_queues=tuple(s.name for s in streams if s.retention == RetentionPolicy.WORK_QUEUE),
            buckets=tuple(b.name for b in bucket_specs(settings)),
        )

    @property
    def bucket_streams(self) -> tuple[str, ...]:
        return tuple(bucket_stream(b) for b in self.buckets)


def bucket_stream(bucket: str) -> str:
    """The stream that holds a key-value bucket."""
    return f"KV_{bucket}"


def provisioning(resources: Resources) -> list[str]:
    """Create, update and inspect every declared stream and bucket.

    Every service runs `makefx_bus.streams.provision` at start, which creates or updates
    all of them, so every service needs this (no DELETE, no PURGE).
    """
    return [
        f"{_API}.STREAM.{action}.{name}"
        for name in (*resources.streams, *resources.bucket_streams)
        for action in ("CREATE", "UPDATE", "INFO")
    ]


def consuming(stream: str) -> list[str]:
    """Create and inspect consumers of one stream, pull from them, acknowledge; read single messages.

    Deleting consumers is left out: a service could delete another's. Ephemeral
    consumers go away on their own when their subscriber does.
    """
    return [
        f"{_API}.STREAM.INFO.{stream}",
        # Ephemeral (no name: ordered consumers) and named (`.<name>`, `.<name>.<filter>`).
        f"{_API}.CONSUMER.CREATE.{stream}",
        f"{_API}.CONSUMER.CREATE.{stream}.>",
        f"{_API}.CONSUMER.INFO.{stream}.*",
        f"{_API}.CONSUMER.MSG.NEXT.{stream}.*",
        f"{_API}.DIRECT.GET.{stream}",
        f"{_API}.DIRECT.GET.{stream}.>",
        f"{_API}.STREAM.MSG.GET.{stream}",
        # Acks (and +WPI, -NAK, +TERM) answer on `$JS.ACK.<stream>.<consumer>.…`.
        f"$JS.ACK.{stream}.>",
        # Push consumers (ordered ones, KV watchers) ask the client to answer flow control.
        f"$JS.FC.{stream}.>",
    ]


def reading_bucket(bucket: str) -> list[str]:
    """Get and watch keys of a bucket (a watch is an ordered consumer of its stream)."""
    stream = bucket_stream(bucket)
    return [
        f"{_API}.STREAM.INFO.{stream}",
        f"{_API}.DIRECT.GET.{stream}",
        f"{_API}.DIRECT.GET.{stream}.>",
        f"{_API}.STREAM.MSG.GET.{stream}",
        f"{_API}.CONSUMER.CREATE.{stream}",
        f"{_API}.CONSUMER.CREATE.{stream}.>",
        f"{_API}.CONSUMER.INFO.{stream}.*",
        f"$JS.FC.{stream}.>",
    ]


def writing_bucket(bucket: str) -> list[str]:
    """Put, create, update (compare-and-set) and delete keys, besides reading them."""
    return [*reading_bucket(bucket), f"$KV.{bucket}.>"]


def service_permissions(service: ServiceTopology, resources: Resources | None = None) -> Permissions:
    """The least a service needs for its part of the flows, plus provisioning at start."""
    resources = resources or Resources.declared()
    publish: list[str] = [f"{_API}.INFO", f"{_API}.STREAM.NAMES", *provisioning(resources)]
    subscribe: list[str] = [_INBOX]
    publish += [s.wildcard for s in (*service.publishes, *service.requests)]
    subscribe += [s.wildcard for s in (*service.subscribes, *service.answers)]
    for stream in service.consumes:
        publish += consuming(stream)
    for bucket in service.reads:
        publish += reading_bucket(bucket)
    for bucket in service.writes:
        publish += writing_bucket(bucket)
    return Permissions(
        publish=_unique(publish),
        subscribe=_unique(subscribe),
        allow_responses=bool(service.answers),
    )


def debug_permissions(resources: Resources | None = None) -> Permissions:
    """For an engineer with the `nats` CLI: watch every subject, list and read streams and buckets.

    It may create consumers only on streams that keep their messages: on a work queue
    (GEN_JOBS, CHAT) even an unacknowledging consumer would take jobs away from workers.
    """
    resources = resources or Resources.declared()
    viewable = [s for s in resources.streams if s not in resources.work_queues] + list(resources.bucket_streams)
    publish = [
        f"{_API}.INFO",
        f"{_API}.STREAM.NAMES",
        f"{_API}.STREAM.LIST",
        f"{_API}.STREAM.INFO.*",
        f"{_API}.CONSUMER.NAMES.*",
        f"{_API}.CONSUMER.LIST.*",
        f"{_API}.CONSUMER.INFO.*.*",
        f"{_API}.DIRECT.GET.>",
        f"{_API}.STREAM.MSG.GET.*",
    ]
    for stream in viewable:
        publish += [
            f"{_API}.CONSUMER.CREATE.{stream}",
            f"{_API}.CONSUMER.CREATE.{stream}.>",
            f"$JS.FC.{stream}.>",
        ]
    return Permissions(publish=_unique(publish), subscribe=("fx.>", _INBOX))


def permissions_for(user: str, resources: Resources | None = None) -> Permissions:
    """A known user's permissions: a service's, `debug`'s or `admin`'s (unrestricted)."""
    if user in SERVICES:
        return service_permissions(SERVICES[user], resources)
    if user == DEBUG_USER:
        return debug_permissions(resources)
    if user == ADMIN_USER:
        return UNRESTRICTED
    raise KeyError(f"no NATS user {user!r}: known users are {', '.join(known_users())}")


DEBUG_USER = "debug"
ADMIN_USER = "admin"


def known_users() -> tuple[str, ...]:
    return (*SERVICES, DEBUG_USER, ADMIN_USER)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
