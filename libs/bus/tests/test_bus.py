"""The bus on a real nats-server: provisioning, typed requests, typed errors, JetStream publishing."""

import asyncio
import json
from typing import ClassVar, Literal

import nats
import pytest

from makefx_bus import ACTOR_HEADER, TRACE_HEADER, Bus, bucket_specs, provision, stream_specs
from makefx_contracts import ErrorCode, Message, Request, Subject
from makefx_contracts.errors import InternalError, NotFound, PermissionDenied, Unavailable
from makefx_contracts.identity import GetMembership, Membership, Role
from makefx_contracts.subjects import USAGE_EVENTS
from makefx_settings import ServiceSettings
from makefx_telemetry import current_trace, trace_scope


class Echo(Message):
    type: Literal["test:echo"] = "test:echo"
    text: str
    trace_id: str | None = None
    actor: str | None = None


class Shout(Request[Echo]):
    type: Literal["test:shout"] = "test:shout"
    subject: ClassVar[Subject] = Subject("fx.test.shout")
    text: str


class Recorded(Message):
    type: Literal["test:recorded"] = "test:recorded"
    subject: ClassVar[Subject] = USAGE_EVENTS
    amount: int


def settings(url: str, name: str, **overrides) -> ServiceSettings:
    return ServiceSettings(nats_url=url, service_name=name, **overrides)


@pytest.fixture
async def responder_bus(nats_server):
    bus = Bus(settings(nats_server.url, "responder"))

    async def on_shout(request: Shout) -> Echo:
        if request.text == "forbidden":
            raise PermissionDenied("shouting is not allowed here", details={"why": "quiet space"})
        if request.text == "crash":
            raise RuntimeError("a bug")
        trace = current_trace()
        return Echo(text=request.text.upper(), trace_id=trace.trace_id, actor=trace.actor)

    async def on_get_membership(query: GetMembership) -> Membership:
        if query.space_id == "missing":
            raise NotFound("no such space", details={"spaceId": query.space_id})
        return Membership(space_id=query.space_id, user_id=query.user_id, role=Role.VIEWER)

    bus.responder(on_shout)
    bus.responder(on_get_membership)
    await bus.start()
    yield bus
    await bus.stop()


@pytest.fixture
async def client_bus(nats_server):
    bus = Bus(settings(nats_server.url, "client"))
    await bus.start()
    yield bus
    await bus.stop()


async def test_provisioning_twice_in_a_row_is_idempotent(fresh_nats_server):
    config = settings(fresh_nats_server.url, "provisioner")
    connection = await nats.connect(fresh_nats_server.url)
    js = connection.jetstream()
    try:
        await provision(js, config)
        first = {spec.name: (await js.stream_info(spec.name)).config for spec in stream_specs(config)}
        await provision(js, config)
        second = {spec.name: (await js.stream_info(spec.name)).config for spec in stream_specs(config)}
        assert first == second
        names = {info.config.name for info in await js.streams_info()}
        assert names == {"SPACE_EVENTS", "GEN_JOBS", "CHAT", "USAGE", "KV_fx_state_replicas", "KV_fx_space_owners"}
        for bucket in bucket_specs(config):
            status = await (await js.key_value(bucket.name)).status()
            assert status.bucket == bucket.name
    finally:
        await connection.close()


async def test_provisioning_reconciles_a_stream_whose_limits_changed(fresh_nats_server):
    connection = await nats.connect(fresh_nats_server.url)
    js = connection.jetstream()
    try:
        await provision(js, settings(fresh_nats_server.url, "p", space_events_max_age_days=1))
        await provision(js, settings(fresh_nats_server.url, "p", space_events_max_age_days=2))
        info = await js.stream_info("SPACE_EVENTS")
        assert info.config.max_age == pytest.approx(2 * 24 * 3600)
        await provision(js, settings(fresh_nats_server.url, "p", replica_heartbeat_ttl_seconds=9))
        assert (await js.stream_info("KV_fx_state_replicas")).config.max_age == pytest.approx(9)
    finally:
        await connection.close()


async def test_request_returns_the_typed_reply(responder_bus, client_bus):
    reply = await client_bus.request(GetMembership(space_id="s1", user_id="u1"))
    assert reply == Membership(space_id="s1", user_id="u1", role=Role.VIEWER)


async def test_a_typed_error_crosses_the_bus_as_its_exception_class(responder_bus, client_bus):
    with pytest.raises(NotFound) as caught:
        await client_bus.request(GetMembership(space_id="missing", user_id="u1"))
    assert caught.value.details == {"spaceId": "missing"}
    with pytest.raises(PermissionDenied, match="not allowed"):
        await client_bus.request(Shout(text="forbidden"))


async def test_a_handler_bug_is_an_internal_error_with_the_trace_id(responder_bus, client_bus):
    with trace_scope("trace-abc"), pytest.raises(InternalError) as caught:
        await client_bus.request(Shout(text="crash"))
    assert caught.value.details == {"traceId": "trace-abc"}
    assert "a bug" not in caught.value.message


async def test_trace_id_and_actor_travel_in_headers(responder_bus, client_bus):
    with trace_scope("trace-123", actor="user-7"):
        reply = await client_bus.request(Shout(text="hi"))
    assert (reply.text, reply.trace_id, reply.actor) == ("HI", "trace-123", "user-7")


async def test_a_malformed_request_gets_invalid_message_naming_the_field(responder_bus, client_bus, nats_server):
    connection = await nats.connect(nats_server.url)
    try:
        for payload in (b"not json", b'{"type": "test:shout"}', b'{"type":"test:shout","text":1,"x":2}'):
            raw = await connection.request("fx.test.shout", payload, timeout=2)
            body = json.loads(raw.data)
            assert body["type"] == "error"
            assert body["code"] == ErrorCode.INVALID_MESSAGE
        locs = [error["loc"] for error in body["details"]["errors"]]
        assert ["text"] in locs and ["x"] in locs
    finally:
        await connection.close()
    # The responder still answers well-formed requests afterwards.
    assert (await client_bus.request(Shout(text="still here"))).text == "STILL HERE"


async def test_a_request_nobody_answers_is_unavailable_not_a_hang(client_bus):
    with pytest.raises(Unavailable, match="nothing answers"):
        await client_bus.request(Shout(text="anyone?"), subject="fx.test.nobody")


async def test_persist_stores_once_per_message_id(client_bus, nats_server):
    first = await client_bus.persist(Recorded(amount=3), msg_id="variant-1:1")
    again = await client_bus.persist(Recorded(amount=3), msg_id="variant-1:1")
    other = await client_bus.persist(Recorded(amount=4), msg_id="variant-1:2")
    assert first.stream == "USAGE"
    assert again.duplicate and again.seq == first.seq
    assert not other.duplicate and other.seq == first.seq + 1
    stored = await client_bus.js.get_msg("USAGE", first.seq)
    assert json.loads(stored.data) == {"type": "test:recorded", "amount": 3}
    assert stored.headers[TRACE_HEADER]
    assert ACTOR_HEADER not in stored.headers


class Hold(Request[Echo]):
    type: Literal["test:hold"] = "test:hold"
    subject: ClassVar[Subject] = Subject("fx.test.hold")
    text: str


async def test_a_slow_request_does_not_hold_up_the_others(nats_server, client_bus):
    bus = Bus(settings(nats_server.url, "slow-responder"))
    release = asyncio.Event()

    async def on_hold(request: Hold) -> Echo:
        if request.text == "slow":
            await release.wait()
        return Echo(text=request.text)

    bus.responder(on_hold)
    await bus.start()
    try:
        slow = asyncio.create_task(client_bus.request(Hold(text="slow")))
        fast = await client_bus.request(Hold(text="fast"))
        assert fast.text == "fast" and not slow.done()
        release.set()
        assert (await slow).text == "slow"
    finally:
        await bus.stop()


async def test_an_in_order_responder_answers_strictly_in_arrival_order(nats_server, client_bus):
    bus = Bus(settings(nats_server.url, "ordered-responder"))
    seen: list[str] = []

    async def on_hold(request: Hold) -> Echo:
        await asyncio.sleep(0)  # yield, so out-of-order processing would show
        seen.append(request.text)
        return Echo(text=request.text)

    bus.responder(on_hold, concurrency=1)
    await bus.start()
    try:
        texts = [str(i) for i in range(50)]
        await asyncio.gather(*(client_bus.request(Hold(text=text)) for text in texts))
        assert seen == texts
    finally:
        await bus.stop()


async def test_stop_answers_requests_already_in_flight(nats_server, client_bus):
    bus = Bus(settings(nats_server.url, "draining-responder"))
    started = asyncio.Event()
    release = asyncio.Event()

    async def on_hold(request: Hold) -> Echo:
        started.set()
        await release.wait()
        return Echo(text=request.text)

    bus.responder(on_hold)
    await bus.start()
    pending = asyncio.create_task(client_bus.request(Hold(text="in flight")))
    handling = asyncio.create_task(started.wait())
    await asyncio.wait({pending, handling}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if pending.done():
        pending.result()  # a request answered before the handler ran can only be an error: show it
    assert handling.done(), "the responder did not get the request within 30 s"
    stopping = asyncio.create_task(bus.stop())
    release.set()
    assert (await pending).text == "in flight"
    await stopping


async def test_stop_returns_when_the_nats_server_is_already_gone(fresh_nats_server):
    bus = Bus(settings(fresh_nats_server.url, "orphaned"))

    async def on_shout(request: Shout) -> Echo:
        return Echo(text=request.text)

    bus.responder(on_shout)
    await bus.start()
    fresh_nats_server.stop()
    await asyncio.sleep(0.2)  # the client notices and starts reconnecting
    await asyncio.wait_for(bus.stop(), 10)
    assert not bus.is_connected
