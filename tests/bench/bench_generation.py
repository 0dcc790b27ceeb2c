"""Generation (issue 5): the overhead the pipeline adds around a `local` image, and 1,000 jobs drained by two workers.

The product runs as real processes (nats-server, space-state, media, gateway, generation),
started by the generation tests' `Stack`. Overhead: a socket's `generate:request` until its
`generate:result`, beside the `local` provider making the same image alone (the floor the
pipeline adds to). Throughput: 1,000 requests sent at once, drained by two workers,
beside the `local` provider alone at the same concurrency.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_generation.providers.local import LocalProvider
from services.generation.tests.conftest import Stack
from tests.bench.report import Latency, Table

WARMUP = 10
SAMPLES = 200
DRAIN = 1000
WORKERS = 2
CONCURRENCY = 4
SIZE = {"width": 256, "height": 256}


def job(index: int) -> GenerationJob:
    return GenerationJob(
        space_id="bench",
        asset_id="bench",
        variant_id=f"v{index}",
        attempt=1,
        media_kind=MediaKind.IMAGE,
        asset_type="item",
        recipe={"prompt": f"item number {index}", "model": "gemini-3.1-flash-image", "options": SIZE},
        actor=Actor(user_id="bench", role=Role.EDITOR),
    )


async def provider_alone(samples: int) -> Latency:
    local = LocalProvider()
    seconds = []
    for index in range(samples):
        started = time.perf_counter()
        await local.generate(job(index))
        seconds.append(time.perf_counter() - started)
    return Latency.of(seconds)


async def provider_throughput(count: int, concurrency: int) -> float:
    local = LocalProvider()
    queue = list(range(count))

    async def loop() -> None:
        while queue:
            await local.generate(job(queue.pop()))

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def run() -> None:
    table = Table("generation (issue 5): ours = socket request to generate:result through every service")
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp) / "one", generation_env={"MAKEFX_JOBS_CONCURRENCY": str(CONCURRENCY)})
        try:
            await stack.start(workers=1)
            space_id, owner, _ = await stack.shared_space()
            peer = await stack.connect(space_id, owner["token"])

            async def one(index: int) -> float:
                started = time.perf_counter()
                answer = await peer.generate(name=f"I{index}", assetType="item", prompt=f"item {index}", options=SIZE)
                result = await peer.result(answer["variantId"])
                assert result["status"] == "completed", result
                return time.perf_counter() - started

            for index in range(WARMUP):
                await one(index)
            ours = Latency.of([await one(WARMUP + index) for index in range(SAMPLES)])
            table.latency("image request → completed", ours, await provider_alone(SAMPLES), "local alone")
        finally:
            stack.stop()

        stack = Stack(Path(tmp) / "two", generation_env={"MAKEFX_JOBS_CONCURRENCY": str(CONCURRENCY)})
        try:
            await stack.start(workers=WORKERS)
            space_id, owner, editor = await stack.shared_space()
            sender = await stack.connect(space_id, owner["token"])
            watcher = await stack.connect(space_id, editor["token"])
            started = time.perf_counter()
            for index in range(DRAIN):
                await sender.send(
                    {
                        "type": "generate:request",
                        "requestId": uuid.uuid4().hex,
                        "name": f"D{index}",
                        "assetType": "item",
                        "prompt": f"drained {index}",
                        "options": SIZE,
                    }
                )
            done: set[str] = set()

            def drained(frame: dict) -> bool:
                if frame["type"] == "generate:result" and frame["status"] == "completed":
                    done.add(frame["variantId"])
                return len(done) >= DRAIN

            await watcher.wait_for(drained, timeout=900)
            rate = DRAIN / (time.perf_counter() - started)
            floor = await provider_throughput(DRAIN, WORKERS * CONCURRENCY)
            table.throughput(f"{DRAIN:,} jobs, {WORKERS} workers", rate, floor, "local alone, same concurrency")
        finally:
            stack.stop()
    table.note(
        f"images of {SIZE['width']}x{SIZE['height']} from the `local` provider; {SAMPLES} sequential requests "
        f"after {WARMUP} warm-up; {WORKERS} workers x {CONCURRENCY} jobs each for the drain"
    )
    table.note("the pipeline: 3 space commands (start, uploading, complete), a signed PUT, an ingest with thumbnail")
    table.print()
