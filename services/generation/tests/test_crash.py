"""A worker killed (SIGKILL) in the middle of 200 jobs: after a restart every variant completes exactly once."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest

from .conftest import Stack, running_stack, usage_events

JOBS = 200


@pytest.fixture
async def crash_stack(tmp_path: Path):
    # A short ack wait: jobs held by the killed worker come back within seconds.
    generation_env = {"MAKEFX_JOBS_ACK_WAIT_SECONDS": "3", "MAKEFX_JOBS_CONCURRENCY": "8"}
    async with running_stack(tmp_path, generation_env) as running:
        yield running


async def test_sigkill_of_the_worker_mid_run_then_a_restart_completes_every_variant_exactly_once(crash_stack: Stack):
    space_id, owner, editor = await crash_stack.shared_space()
    alice = await crash_stack.connect(space_id, owner["token"])
    bob = await crash_stack.connect(space_id, editor["token"])
    request_ids = [f"req-{uuid.uuid4().hex[:12]}" for _ in range(JOBS)]
    for index, request_id in enumerate(request_ids):
        await alice.send(
            {
                "type": "generate:request",
                "requestId": request_id,
                "name": f"Item {index}",
                "assetType": "item",
                "prompt": f"item number {index}",
                "options": {"width": 64, "height": 64},
            }
        )

    def results() -> list[dict]:
        return [frame for frame in bob.frames if frame["type"] == "generate:result"]

    await bob.wait_for(lambda frame: len(results()) >= JOBS // 5, timeout=120)
    crash_stack.workers[0].kill()
    killed_at = len(results())
    assert killed_at < JOBS, "every job finished before the kill; nothing was tested"
    await crash_stack.start_worker()
    await bob.wait_for(lambda frame: len({r["variantId"] for r in results()}) >= JOBS, timeout=240)

    started = {frame["requestId"]: frame for frame in alice.frames if frame["type"] == "generate:started"}
    assert set(started) == set(request_ids)
    variant_ids = {answer["variantId"] for answer in started.values()}
    assert len(variant_ids) == JOBS
    created = Counter(f["variant"]["id"] for f in bob.frames if f["type"] == "variant:created")
    assert set(created) == variant_ids and set(created.values()) == {1}
    completed = Counter(r["variantId"] for r in results() if r["status"] == "completed")
    assert completed == Counter(dict.fromkeys(variant_ids, 1))
    usage = await usage_events(crash_stack, JOBS)
    assert sorted(event["id"] for event in usage) == sorted(f"{variant_id}:1" for variant_id in variant_ids)
    # Every variant in the owner's state is completed, once.
    await bob.send({"type": "sync:request"})
    state = await bob.wait_for(lambda frame: frame["type"] == "sync:state", start=len(bob.frames) - 1)
    assert sorted(v["id"] for v in state["variants"]) == sorted(variant_ids)
    assert {v["status"] for v in state["variants"]} == {"completed"}
