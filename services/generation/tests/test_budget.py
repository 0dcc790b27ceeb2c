"""The space's monthly budget, checked with the real billing service before any provider is called."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest

from makefx_bus.codec import encode
from makefx_contracts.generation import GenerationJob
from makefx_contracts.identity import Role
from makefx_contracts.rows import MediaKind
from makefx_contracts.space import Actor
from makefx_contracts.usage import SetSpaceBudget
from makefx_generation.budget import estimated_credits

from .conftest import Stack, running_stack, usage_events
from .fakes import FakeServer, gemini_image, png_bytes


@pytest.fixture
async def billed_stack(tmp_path: Path, gemini: FakeServer) -> AsyncIterator[Stack]:
    """The product with billing, and a worker whose Gemini is the fake."""
    generation_env = {"MAKEFX_GEMINI_API_KEY": "test-key", "MAKEFX_GEMINI_BASE_URL": gemini.url}
    async with running_stack(tmp_path, generation_env, billing=True) as running:
        yield running


async def set_budget(stack: Stack, space_id: str, credits: float) -> None:
    client = await nats.connect(stack.nats.url)
    try:
        command = SetSpaceBudget(space_id=space_id, monthly_credits=credits)
        reply = await client.request(command.address(), encode(command), timeout=10)
        assert b'"billing:spaceBudget"' in reply.data, reply.data
    finally:
        await client.close()


async def test_a_generation_over_the_monthly_budget_fails_before_the_provider_and_a_retry_within_it_completes(
    billed_stack: Stack, gemini: FakeServer
):
    gemini.script(gemini_image(png_bytes()))
    space_id, owner, _ = await billed_stack.shared_space()
    alice = await billed_stack.connect(space_id, owner["token"])
    await set_budget(billed_stack, space_id, 3.5)

    started = await alice.generate(name="Pro", assetType="scene", prompt="a castle", model="gemini-3-pro-image")
    variant_id = started["variantId"]
    result = await alice.result(variant_id)

    assert result["status"] == "failed"
    assert result["errorMessage"] == (
        "Not generated: this space's monthly budget of 3.5 credits would be exceeded: 0 spent this month, 4 more asked."
    )
    assert gemini.requests == []
    assert await usage_events(billed_stack, 0) == []

    await set_budget(billed_stack, space_id, 10)
    start = len(alice.frames)
    assert (await alice.call("variant:retry", variantId=variant_id))["type"] == "ack"
    done = await alice.wait_for(
        lambda frame: frame["type"] == "generate:result" and frame["variantId"] == variant_id, start=start
    )
    assert done["status"] == "completed" and len(gemini.requests) == 1
    [usage] = await usage_events(billed_stack, 1)
    assert (usage["id"], usage["credits"]) == (f"{variant_id}:2", 4)


async def test_without_billing_a_generation_goes_ahead_and_the_worker_says_so_once(stack: Stack):
    space_id, owner, _ = await stack.shared_space()
    alice = await stack.connect(space_id, owner["token"])
    size = {"width": 64, "height": 64}

    for name in ("One", "Two"):
        started = await alice.generate(name=name, assetType="scene", prompt=name, options=size)
        assert (await alice.result(started["variantId"]))["status"] == "completed"

    log = stack.workers[0].log.read_text()
    assert log.count("billing did not check the budget") == 1
    assert len(await usage_events(stack, 2)) == 2


def job(model: str, **options) -> GenerationJob:
    return GenerationJob(
        space_id="spc_1",
        asset_id="ast_1",
        variant_id="var_1",
        attempt=1,
        media_kind=MediaKind.AUDIO if model in ("elevenlabs", "lyria-002") else MediaKind.IMAGE,
        asset_type="music",
        recipe={"prompt": "p", "model": model, "options": options},
        actor=Actor(user_id="usr_1", role=Role.EDITOR),
    )


@pytest.mark.parametrize(
    ("model", "options", "credits"),
    [
        ("gemini-3.1-flash-image", {}, 1),
        ("gemini-3-pro-image", {"width": 512}, 4),
        ("veo-3.1-generate", {}, 80),
        ("veo-3.1-generate", {"videoDurationSeconds": 4}, 40),
        ("elevenlabs", {}, 5),
        ("elevenlabs", {"durationSeconds": 12.5}, 12.5),
        ("lyria-002", {"durationSeconds": 5}, 30),
        ("no-such-model", {}, 0),
    ],
)
def test_the_price_asked_of_billing_is_the_models_cost_for_the_recipes_images_or_seconds(model, options, credits):
    assert estimated_credits(job(model, **options)) == credits
