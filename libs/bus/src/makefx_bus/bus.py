"""The bus every service holds: connect, provision, request, respond, publish."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats.errors
from faststream.nats import NatsBroker, NatsUserPassword
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
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


_NO_RESPONDERS_PAUSES = (0.02, 0.1)
"""Before asking again after "no responders": a responder restarting (a rolling deploy) resubscribes within
moments, and the server has, rarely, answered "no responders" right after a subscription was flushed (seen in
~1 of 50 runs of two tests). Nobody there at all is still `UNAVAILABLE`, 0.12 s later."""


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
        self._nats: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._responders: list[_Responder] = []
        self._pending_starts: set[asyncio.Future[None]] = set()

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        await self.broker.connect()
        self._nats = self.broker.connection
        await streams.provision(self.js, self.settings)
        for responder in self._responders:
            await responder.subscribe()
        # The server knows the subscriptions before anyone is told this service is up.
        await self.nats.flush()
        await self.broker.start()

    async def stop(self) -> None:
        """Stop taking requests, let the ones in flight answer, then close the connection."""
        if self._pending_starts:
            await asyncio.gather(*self._pending_starts, return_exceptions=True)
        if self.is_connected:
            for responder in self._responders:
                await responder.drain()
        try:
            await self.broker.stop()
        except (nats.errors.ConnectionReconnectingError, nats.errors.ConnectionClosedError) as error:
            # The server is already gone: there is nothing left to drain, only the client to close.
            log.warning("the bus stopped without draining: NATS is unreachable (%s)", type(error).__name__)
            if self._nats is not None:
                await self._nats.close()
        self._nats = self._js = None

    @property
    def nats(self) -> NatsClient:
        if self._nats is None:
            raise Unavailable("the bus is not connected")
        return self._nats

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            self._js = self.nats.jetstream()
        return self._js

    @property
    def is_connected(self) -> bool:
        return self._nats is not None and self._nats.is_connected

    async def missing_resources(self) -> list[str]:
        return await streams.missing_resources(self.js, self.settings)

    # -- requests --------------------------------------------------------------------

    async def request(
        self,
        request: Request[R],
        *,
        subject: str | None = None,
        timeout: float | None = None,
        wait_for_responders: bool = True,
    ) -> R:
        """Send a request; return its typed reply or raise the `FxError` the responder sent.

        "No responders" is asked again twice within 0.12 s (`_NO_RESPONDERS_PAUSES`) unless
        `wait_for_responders` is False: for an optional peer already known to be away.
        """
        subject = subject or request.address()
        timeout = timeout or self.settings.request_timeout_seconds
        payload, headers = encode(request), trace_headers()
        for pause in (*(_NO_RESPONDERS_PAUSES if wait_for_responders else ()), None):
            try:
                reply = await self.nats.request(subject, payload, timeout=timeout, headers=headers)
                break
            except nats.errors.NoRespondersError:
                if pause is None:
                    raise Unavailable(f"nothing answers on {subject}", details={"subject": subject}) from None
                await asyncio.sleep(pause)
            except nats.errors.TimeoutError:
                raise Unavailable(
                    f"{subject} did not answer within {timeout:g}s", details={"subject": subject}
                ) from None
        return typing.cast(R, decode_reply(type(request).reply, reply.data))

    def responder(
        self,
        handler: Handler,
        *,
        subject: str | None = None,
        queue: str | None = None,
        concurrency: int = 256,
    ) -> Handler:
        """Answer requests with `handler`; its first parameter's annotation is the contract.

        The handler returns the reply model or raises an `FxError`; either way the
        requester gets a typed answer. A malformed request gets `INVALID_MESSAGE`, an
        unexpected failure `INTERNAL_ERROR` (logged with its trace id), never silence.
        Up to `concurrency` requests run at once; with 1 they run strictly in order.
        Registered before `start()`, it subscribes at start; afterwards, at once.
        """
        request_type = _first_parameter_type(handler)
        if subject is None:
            declared = getattr(request_type, "subject", None)
            if declared is None:
                raise TypeError(f"{handler.__name__}: give a subject for {request_type!r}")
            subject = declared.wildcard
        responder = _Responder(
            bus=self,
            handler=handler,
            adapter=TypeAdapter(request_type),
            subject=subject,
            queue=queue if queue is not None else self.settings.service_name,
            slots=asyncio.Semaphore(concurrency),
            in_order=concurrency == 1,
        )
        self._responders.append(responder)
        if self.is_connected:
            self._pending_starts.add(asyncio.ensure_future(responder.subscribe()))
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


class _Responder:
    """One subscription answering one contract (core NATS, queue group per service).

    Subscribes with nats-py directly rather than through FastStream's subscriber
    pipeline, which measured 0.43 ms a message (docs/decisions/0004).
    """

    def __init__(
        self,
        *,
        bus: Bus,
        handler: Handler,
        adapter: TypeAdapter[Any],
        subject: str,
        queue: str,
        slots: asyncio.Semaphore,
        in_order: bool,
    ) -> None:
        self.bus = bus
        self.handler = handler
        self.adapter = adapter
        self.subject = subject
        self.queue = queue
        self.slots = slots
        self.in_order = in_order
        self.subscription: Subscription | None = None
        self.in_flight: set[asyncio.Task[None]] = set()
        name = bus.settings.service_name
        self.count = {outcome: bus.metrics.bus_handled.labels(name, subject, outcome) for outcome in ("ok",)}
        self.latency = bus.metrics.bus_latency.labels(name, subject)

    async def subscribe(self) -> None:
        if self.subscription is None:
            self.subscription = await self.bus.nats.subscribe(self.subject, queue=self.queue, cb=self.on_message)

    async def drain(self) -> None:
        if self.subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await self.subscription.unsubscribe()
            self.subscription = None
        if self.in_flight:
            await asyncio.gather(*self.in_flight, return_exceptions=True)

    async def on_message(self, msg: Msg) -> None:
        if self.in_order:
            await self.answer(msg)
            return
        await self.slots.acquire()
        task = asyncio.create_task(self.answer(msg))
        self.in_flight.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        self.slots.release()

    async def answer(self, msg: Msg) -> None:
        trace_id, actor = trace_from_headers(msg.headers)
        started = time.perf_counter()
        with trace_scope(trace_id, actor):
            outcome = "ok"
            try:
                reply = await self.handler(decode(self.adapter, msg.data))
                body = encode(reply)
            except FxError as error:
                outcome = error.code.value
                body = encode(error.to_reply())
            except Exception:
                outcome = "INTERNAL_ERROR"
                log.exception("responder %s failed on %s", self.handler.__name__, msg.subject)
                body = encode(
                    InternalError(
                        "the service failed to answer", details={"traceId": current_trace().trace_id}
                    ).to_reply()
                )
            if msg.reply:
                try:
                    await msg.respond(body)
                except nats.errors.Error as error:
                    log.warning("could not reply on %s: %s", msg.subject, error)
        counter = self.count.get(outcome)
        if counter is None:
            counter = self.count[outcome] = self.bus.metrics.bus_handled.labels(
                self.bus.settings.service_name, self.subject, outcome
            )
        counter.inc()
        self.latency.observe(time.perf_counter() - started)


def _first_parameter_type(handler: Handler) -> Any:
    hints = typing.get_type_hints(handler, include_extras=True)
    parameters = list(inspect.signature(handler).parameters)
    if not parameters or parameters[0] not in hints:
        raise TypeError(f"{handler.__name__} must annotate its first parameter with a contract")
    return hints[parameters[0]]
