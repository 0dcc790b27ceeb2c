"""libs/bus request/reply and JetStream publish latency, beside raw nats-py on the same server."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar, Literal

import nats

from makefx_bus import Bus
from makefx_cli.nats_server import NatsServer
from makefx_contracts import Message, Request, Subject
from makefx_contracts.subjects import USAGE_EVENTS
from makefx_settings import ServiceSettings
from tests.bench.report import Latency, Table

WARMUP = 300
SAMPLES = 3000


class Pong(Message):
    type: Literal["bench:pong"] = "bench:pong"
    space_id: str
    seq: int


class Ping(Request[Pong]):
    type: Literal["bench:ping"] = "bench:ping"
    subject: ClassVar[Subject] = Subject("fx.bench.ping")
    space_id: str
    seq: int


class Metered(Message):
    type: Literal["bench:metered"] = "bench:metered"
    subject: ClassVar[Subject] = USAGE_EVENTS
    variant_id: str
    units: int


async def measure(operation: Callable[[int], Awaitable[object]]) -> Latency:
    for i in range(WARMUP):
        await operation(i)
    samples = []
    for i in range(SAMPLES):
        started = time.perf_counter()
        await operation(WARMUP + i)
        samples.append(time.perf_counter() - started)
    return Latency.of(samples)


async def run() -> None:
    with tempfile.TemporaryDirectory() as tmp, NatsServer(Path(tmp)) as server:
        settings = ServiceSettings(nats_url=server.url, service_name="bench")
        responder, caller = Bus(settings), Bus(settings.model_copy(update={"service_name": "bench-caller"}))

        async def on_ping(ping: Ping) -> Pong:
            return Pong(space_id=ping.space_id, seq=ping.seq)

        responder.responder(on_ping)
        await responder.start()
        await caller.start()

        raw = await nats.connect(server.url)
        raw_js = raw.jetstream()
        payload = Ping(space_id="sp_bench", seq=0).to_json()

        async def echo(msg) -> None:
            await msg.respond(msg.data)

        await raw.subscribe("fx.bench.raw", queue="raw", cb=echo)

        table = Table("bus (issue 3): ours = libs/bus typed; baseline = raw nats-py, same server, same run")
        ours = await measure(lambda i: caller.request(Ping(space_id="sp_bench", seq=i)))
        floor = await measure(lambda i: raw.request("fx.bench.raw", payload, timeout=2))
        table.latency("request/reply", ours, floor, "raw request")

        subject = USAGE_EVENTS.fill()
        ours = await measure(lambda i: caller.persist(Metered(variant_id=f"v{i}", units=1), msg_id=f"ours-{i}"))
        floor = await measure(lambda i: raw_js.publish(subject, payload, headers={"Nats-Msg-Id": f"raw-{i}"}))
        table.latency("JetStream publish (acked)", ours, floor, "raw js.publish")
        table.print()

        await raw.close()
        await caller.stop()
        await responder.stop()
