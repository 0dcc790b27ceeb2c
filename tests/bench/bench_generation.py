"""Generation (issue 5): the overhead the pipeline adds around a `local` image, and 1,000 jobs drained by two workers.

The product runs as real processes (nats-server, space-state, media, gateway, generation),
started by the generation tests' `Stack`. Overhead: a socket's `generate:request` until its
`generate:result`, minus the `local` provider's median time making the same image alone.
Throughput: 1,000 requests sent at once, drained by two workers, once with every job in
one space (each job's three owner commands then queue on that space's lock) and once
spread over spaces (what many users do), beside the `local` provider alone at the same
concurrency.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_generation.providers.local import LocalProvider
from makefx_testing.gateway_api import register
from services.generation.tests.conftest import Peer, Stack
from tests.bench.report import Latency, Table

WARMUP = 10
SAMPLES = 200
DRAIN = int(os.environ.get("BENCH_GENERATION_DRAIN", "1000"))
WORKERS = 2
CONCURRENCY = 16
SPACES = 20
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux `/proc`): what a job costs each service, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_pids(stack: Stack) -> dict[str, int]:
    """Each service's processes by name (the workers summed under `generation`), and nats-server."""
    pids: dict[str, list[int]] = {}
    for process in stack.processes.values():
        if process.popen is not None:
            pids.setdefault(process.name, []).append(process.popen.pid)
    if stack.nats.process is not None:
        pids["nats-server"] = [stack.nats.process.pid]
    return {name: sum(cpu_seconds(pid) for pid in group) for name, group in pids.items()}


def _stack(root: Path) -> Stack:
    return Stack(root, generation_env={"MAKEFX_JOBS_CONCURRENCY": str(CONCURRENCY)})


async def overhead(root: Path) -> tuple[Latency, Latency]:
    """End-to-end latency of sequential requests, and the same minus the provider's median time alone."""
    stack = _stack(root)
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
        seconds = [await one(WARMUP + index) for index in range(SAMPLES)]
    finally:
        stack.stop()
    alone = await provider_alone(SAMPLES)
    provider_seconds = alone.p50_ms / 1000
    return Latency.of(seconds), Latency.of([max(0.0, s - provider_seconds) for s in seconds])


async def spaces_of(stack: Stack, count: int) -> tuple[str, list[str]]:
    """`count` spaces of one new owner: the owner's token and the space ids."""
    owner = await register(stack.url, "Owner")
    async with httpx.AsyncClient(base_url=stack.url, timeout=15) as api:
        ids = []
        for index in range(count):
            created = await api.post("/api/spaces", json={"name": f"Bench {index}"}, headers=owner.auth)
            assert created.status_code == 201, created.text
            ids.append(created.json()["space"]["id"])
    return owner.token, ids


async def drain(root: Path, spaces: int) -> tuple[float, dict[str, float]]:
    """Jobs per second for DRAIN requests sent at once over `spaces` spaces, drained by WORKERS workers,
    and each service's CPU milliseconds per job."""
    stack = _stack(root)
    try:
        await stack.start(workers=WORKERS)
        token, space_ids = await spaces_of(stack, spaces)
        peers: list[Peer] = [await stack.connect(space_id, token) for space_id in space_ids]
        done: set[str] = set()

        def count(frame: dict) -> bool:
            if frame["type"] == "generate:result" and frame["status"] == "completed":
                done.add(frame["variantId"])
            return frame["type"] == "generate:result" and frame["status"] == "failed"

        cpu_before = service_pids(stack)
        started = time.perf_counter()
        for index in range(DRAIN):
            await peers[index % spaces].send(
                {
                    "type": "generate:request",
                    "requestId": uuid.uuid4().hex,
                    "name": f"D{index}",
                    "assetType": "item",
                    "prompt": f"drained {index}",
                    "options": SIZE,
                }
            )
        async with asyncio.timeout(900):
            while len(done) < DRAIN:
                for peer in peers:
                    failed = [frame for frame in peer.frames if count(frame)]
                    assert not failed, failed[0]
                await asyncio.sleep(0.05)
        rate = DRAIN / (time.perf_counter() - started)
        cpu_after = service_pids(stack)
        for peer in peers:
            await peer.close()
        return rate, {name: (cpu_after[name] - cpu_before[name]) * 1000 / DRAIN for name in cpu_after}
    finally:
        stack.stop()


async def run() -> None:
    table = Table("generation (issue 5): ours = socket request to generate:result through every service")
    with tempfile.TemporaryDirectory() as tmp:
        ours, added = await overhead(Path(tmp) / "overhead")
        alone = await provider_alone(SAMPLES)
        table.latency("image request → completed", ours, alone, "local alone")
        table.latency("overhead (minus local's p50)", added, alone, "local alone")
        floor = await provider_throughput(DRAIN, WORKERS * CONCURRENCY)
        one_space, _ = await drain(Path(tmp) / "one", 1)
        table.throughput(f"{DRAIN:,} jobs, 1 space, {WORKERS} workers", one_space, floor, "local alone, same conc.")
        spread, cpu = await drain(Path(tmp) / "spread", SPACES)
        table.throughput(
            f"{DRAIN:,} jobs, {SPACES} spaces, {WORKERS} workers", spread, floor, "local alone, same conc."
        )
    table.note(
        f"images of {SIZE['width']}x{SIZE['height']} from the `local` provider; {SAMPLES} sequential requests "
        f"after {WARMUP} warm-up; {WORKERS} workers x {CONCURRENCY} jobs each for the drains"
    )
    table.note(
        "the pipeline: start (owner), budget check + variant check, provider, uploading (owner) beside a signed PUT "
        "and an ingest with thumbnail, complete (owner), usage event"
    )
    table.note(
        "CPU per job in the spread drain (ms): "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(cpu.items(), key=lambda item: -item[1]))
        + f"; total {sum(cpu.values()):.1f} (2 cores: at most {2000 / sum(cpu.values()):.0f} jobs/s)"
    )
    table.note("targets: overhead <= 15 ms p50; >= 200 jobs/s")
    table.print()
