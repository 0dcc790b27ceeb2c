"""The bus every service holds: connect, provision, request, respond, publish."""

from __future__ import annotations

import inspect
import logging
import time
import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats.errors
from faststream.nats import NatsBroker, NatsMessage, NatsUserPassword
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import PubAck
from pydantic import TypeAdapter

from makefx_bus import streams
from makefx_bus.codec import decode, decode_reply, encode
from makefx_bus.headers import MSG_ID_HEADER, trace_from_headers, trace_headers
from makefx_contracts import FxError, Message, Request
from makefx_contracts.errors import InternalError, Unavailable
from makefx_settings import ServiceSettings
from makefx_telemetry import current_trace, trace_scope
from makefx_telemetry.metrics import Metrics

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Message)
Handler = Callable[[Any], Awaitable[Message | None]]


class Bus:
    """One connection to NATS for a service, and the only way it sends or answers messages.

    Responders are registered before `start()`; `start()` connects, provisions the
    streams and buckets, then starts the responders.
    """

    def __init__(self, settings: ServiceSettings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics(settings.service_name)
        self.broker = NatsBroker(
            settings.nats_url,
            name=settings.service_name,
            security=(
                NatsUserPassword(settings.nats_user, settings.nats_password or "") if settings.nats_user else None
            ),
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            connect_timeout=5,
            logger=logging.getLogger(f"faststream.{settings.service_name}"),
            log_level=logging.DEBUG,
        )
        self._js: JetStreamContext | None = None

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        await self.broker.connect()
        await streams.provision(self.js, self.settings)
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()

    @property
    def nats(self) -> NatsClient:
        connection = self.broker.connection
        if connection is None:
            raise Unavailable("the bus is not connected")
        return connection

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            self._js = self.nats.jetstream()
        return self._js

    @property
    def is_connected(self) -> bool:
        return self.broker.connection is not None and self.broker.connection.is_connected

    async def missing_resources(self) -> list[str]:
        return await streams.missing_resources(self.js, self.settings)

    # -- requests --------------------------------------------------------------------

    async def request(self, request: Request[R], *, subject: str | None = None, timeout: float | None = None) -> R:
        """Send a request; return its typed reply or raise the `FxError` the responder sent."""
        subject = subject or request.address()
        timeout = timeout or self.settings.request_timeout_seconds
        try:
            reply = await self.nats.request(subject, encode(request), timeout=timeout, headers=trace_headers())
        except nats.errors.NoRespondersError:
            raise Unavailable(f"nothing answers on {subject}", details={"subject": subject}) from None
        except nats.errors.TimeoutError:
            raise Unavailable(f"{subject} did not answer within {timeout:g}s", details={"subject": subject}) from None
        return typing.cast(R, decode_reply(type(request).reply, reply.data))

    def responder(self, handler: Handler, *, subject: str | None = None, queue: str | None = None) -> Handler:
        """Answer requests with `handler`; its first parameter's annotation is the contract.

        The handler returns the reply model or raises an `FxError`; either way the
        requester gets a typed answer. A malformed request gets `INVALID_MESSAGE`, an
        unexpected failure `INTERNAL_ERROR` (logged with its trace id), never silence.
        """
        request_type = _first_parameter_type(handler)
        if subject is None:
            declared = getattr(request_type, "subject", None)
            if declared is None:
                raise TypeError(f"{handler.__name__}: give a subject for {request_type!r}")
            subject = declared.wildcard
        adapter: TypeAdapter[Any] = TypeAdapter(request_type)
        queue = queue if queue is not None else self.settings.service_name

        async def on_request(msg: NatsMessage) -> bytes:
            trace_id, actor = trace_from_headers(msg.headers)
            started = time.perf_counter()
            with trace_scope(trace_id, actor):
                outcome = "ok"
                try:
                    reply = await handler(decode(adapter, msg.body))
                    body = encode(reply) if reply is not None else b""
                except FxError as error:
                    outcome = error.code.value
                    body = encode(error.to_reply())
                except Exception:
                    outcome = "INTERNAL_ERROR"
                    log.exception("responder %s failed on %s", handler.__name__, subject)
                    body = encode(
                        InternalError(
                            "the service failed to answer", details={"traceId": current_trace().trace_id}
                        ).to_reply()
                    )
            self.metrics.bus_handled.labels(self.settings.service_name, subject, outcome).inc()
            self.metrics.bus_latency.labels(self.settings.service_name, subject).observe(time.perf_counter() - started)
            return body

        on_request.__name__ = handler.__name__
        self.broker.subscriber(subject, queue=queue)(on_request)
        return handler

    # -- publishing ------------------------------------------------------------------

    async def publish(self, message: Message, *, subject: str | None = None) -> None:
        """Fire-and-forget on core NATS (presence, progress): at most once."""
        await self.nats.publish(subject or message.address(), encode(message), headers=trace_headers())

    async def persist(self, message: Message, *, msg_id: str, subject: str | None = None) -> PubAck:
        """Publish to JetStream and wait until the stream has stored it.

        `msg_id` is the idempotency key (`Nats-Msg-Id`): the same id within the
        stream's duplicate window is stored once.
        """
        headers = trace_headers() | {MSG_ID_HEADER: msg_id}
        return await self.js.publish(subject or message.address(), encode(message), headers=headers)


def _first_parameter_type(handler: Handler) -> Any:
    hints = typing.get_type_hints(handler, include_extras=True)
    parameters = list(inspect.signature(handler).parameters)
    if not parameters or parameters[0] not in hints:
        raise TypeError(f"{handler.__name__} must annotate its first parameter with a contract")
    return hints[parameters[0]]
