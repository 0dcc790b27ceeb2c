"""Cancel (or delete) stops a provider call already running: nothing stored, reported or metered; the job is acked."""

from __future__ import annotations

import asyncio

import nats
import pytest

from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_contracts.subjects import STREAM_GENERATION_JOBS
from makefx_generation.space_watch import ends

from .conftest import Stack, usage_events
from .fakes import FakeServer, gemini_image, png_bytes


async def until(condition, *, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polling what a fake server recorded
            await asyncio.sleep(0.05)


async def jobs_settled(stack: Stack) -> None:
    """Wait until the workers' consumer has nothing pending and nothing unacknowledged."""
    client = await nats.connect(stack.nats.url)
    try:
        async with asyncio.timeout(30):
            while True:
                info = await client.jetstream().consumer_info(STREAM_GENERATION_JOBS, "generation")
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    return
                await asyncio.sleep(0.1)
    finally:
        await client.close()


@pytest.mark.parametrize("action", ["variant:cancel", "variant:delete"])
async def test_a_running_provider_call_is_abandoned_when_its_variant_is_cancelled_or_deleted(
    gemini_stack: Stack, gemini: FakeServer, action: str
):
    slow = gemini_image(png_bytes())
    slow.delay = 120  # far longer than the test may run: only abandoning the call lets it finish
    gemini.script(slow)
    space_id, owner, editor = await gemini_stack.shared_space()
    alice = await gemini_stack.connect(space_id, owner["token"])
    bob = await gemini_stack.connect(space_id, editor["token"])
    started = await alice.generate(name="Slow", assetType="scene", prompt="a slow sunrise")
    variant_id = started["variantId"]
    await until(lambda: len(gemini.requests) == 1)  # the provider is working on it

    answer = await (alice if action == "variant:delete" else bob).call(action, variantId=variant_id)
    assert answer["type"] == "ack", answer

    await until(lambda: gemini.requests[0].abandoned)
    await jobs_settled(gemini_stack)
    if action == "variant:cancel":
        result = await alice.result(variant_id)
        assert (result["status"], result["errorMessage"]) == ("failed", "Cancelled before it finished.")
        assert alice.variant_states(variant_id) == ["pending", "processing", "failed"]
    else:
        await alice.wait_for(lambda frame: frame["type"] == "variant:deleted" and frame["variantId"] == variant_id)
        assert "uploading" not in alice.variant_states(variant_id)
    assert await usage_events(gemini_stack, 0) == []
    data = gemini_stack.root / "data" / "media"
    assert not [path for path in data.rglob(f"*{variant_id}*")]
    assert len(gemini.requests) == 1
    log = gemini_stack.workers[0].log.read_text()
    assert f"job {variant_id}:1 ended elsewhere (cancelled, retried or deleted): abandoned" in log


JOB = GenerationJob(
    space_id="spc_1",
    asset_id="ast_1",
    variant_id="var_1",
    attempt=2,
    media_kind=MediaKind.IMAGE,
    asset_type="scene",
    recipe={"prompt": "p", "model": "gemini-3.1-flash-image"},
    actor=Actor(user_id="usr_1", role=Role.EDITOR),
)


def updated(variant_id: str, status: str, workflow_id: str | None) -> dict:
    return {"type": "variant:updated", "variant": {"id": variant_id, "status": status, "workflow_id": workflow_id}}


@pytest.mark.parametrize(
    ("event", "ending"),
    [
        (updated("var_1", "failed", "var_1:2"), True),
        (updated("var_1", "pending", "var_1:3"), True),
        (updated("var_1", "processing", "var_1:2"), False),
        (updated("var_1", "uploading", "var_1:2"), False),
        (updated("var_1", "failed", "var_1:1"), False),
        (updated("var_1", "processing", "var_1:1"), False),
        (updated("var_1", "pending", None), True),
        (updated("var_2", "failed", "var_2:1"), False),
        ({"type": "variant:deleted", "variantId": "var_1"}, True),
        ({"type": "variant:deleted", "variantId": "var_2"}, False),
        ({"type": "asset:deleted", "assetId": "ast_1"}, True),
        ({"type": "asset:deleted", "assetId": "ast_2"}, False),
        ({"type": "lineage:created", "lineage": {}}, False),
    ],
)
def test_an_attempt_ends_when_it_fails_its_variant_moves_to_a_later_attempt_or_is_deleted(event, ending):
    assert ends(event, JOB) is ending
