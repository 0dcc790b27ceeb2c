"""What the bot is shown for a turn: the conversation before it and the space, bounded to one NATS reply."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from makefx_bus import Bus
from makefx_contracts.chat import reply_id
from makefx_contracts.errors import NotFound
from makefx_contracts.events import VariantUpdated
from makefx_contracts.rows import ChatMode, VariantRow, VariantStatus
from makefx_contracts.space import (
    AssetChanges,
    DeleteAsset,
    ForkAsset,
    GetChatContext,
    PostChatReply,
    SendChat,
    SetActiveVariant,
    UpdateAsset,
)
from makefx_space_state import chat
from makefx_space_state.publisher import BusEventPublisher

from .conftest import EDITOR, SpaceWorld


@pytest.fixture
def world(tmp_path: Path, bus: Bus, make_world) -> SpaceWorld:
    clock = itertools.count(1_800_000_000_000)
    return make_world(tmp_path / "replica", BusEventPublisher(bus), clock=lambda: next(clock))


async def say(world: SpaceWorld, content: str):
    return (await world.apply(SendChat, EDITOR, content=content, mode=ChatMode.ACTOR)).events[0].message


async def context(world: SpaceWorld, message_id: str, **bounds):
    return await world.service.get_chat_context(
        GetChatContext(space_id=world.space_id, message_id=message_id, **bounds)
    )


async def test_the_context_holds_the_messages_before_the_turn_and_the_live_assets_most_recently_changed_first(
    world: SpaceWorld,
):
    a = await world.create_asset("A")
    b = await world.create_asset("B")
    c = await world.create_asset("C")
    d = await world.create_asset("D")
    v1 = await world.add_variant(a.id, created_at=1)
    v2 = await world.add_variant(a.id, created_at=2)
    await world.add_variant(b.id, VariantStatus.PENDING, created_at=3)
    b2 = await world.add_variant(b.id, VariantStatus.PENDING, created_at=4)
    e = (await world.apply(ForkAsset, source_variant_id=v1.id, name="E", asset_type="item")).events[0]
    f = (await world.apply(ForkAsset, source_variant_id=v2.id, name="F", asset_type="item")).events[0]
    await world.apply(SetActiveVariant, asset_id=a.id, variant_id=v1.id)
    await world.apply(DeleteAsset, asset_id=d.id)
    await world.apply(UpdateAsset, asset_id=c.id, changes=AssetChanges(name="C2"))
    first = await say(world, "hello")
    answer = (
        (
            await world.apply(
                PostChatReply,
                EDITOR,
                reply_to=first.id,
                message_id=reply_id(first.id),
                content="Hi, what shall we make?",
            )
        )
        .events[0]
        .message
    )
    turn = await say(world, "a fox please")
    await say(world, "after the turn")

    seen = await context(world, turn.id)

    assert seen.turn == turn and seen.messages == [first, answer]
    assert [asset.name for asset in seen.assets] == ["C2", "A", "F", "E", "B"]
    assert [variant.id for variant in seen.variants] == [v1.id, f.variant.id, e.variant.id, b2.id]
    assert seen.lineage == [e.lineage]  # F's link starts at A's variant not shown
    assert seen.seq == await world.seq()

    bounded = await context(world, turn.id, max_messages=1, max_assets=2)
    assert bounded.messages == [answer]
    assert [asset.name for asset in bounded.assets] == ["C2", "A"] and bounded.variants == seen.variants[:1]
    assert bounded.lineage == []


async def test_long_texts_and_provider_metadata_are_left_out_and_the_reply_fits_one_nats_message(world: SpaceWorld):
    hero = await world.create_asset("Hero")
    variant = await world.add_variant(hero.id)
    await _give_provider_metadata(world, variant, {"raw": "y" * 5000})
    sent = [await say(world, f"{index} " + "x" * 19_990) for index in range(120)]
    turn = sent[-1]

    seen = await context(world, turn.id, max_messages=500)

    size = len(seen.model_dump_json().encode())
    assert size < chat.REPLY_BUDGET < 1024 * 1024
    assert seen.turn == turn
    kept = seen.messages
    assert 10 < len(kept) < 119
    assert [message.id for message in kept] == [message.id for message in sent[-1 - len(kept) : -1]]
    assert all(message.content.endswith(chat.TRUNCATED) for message in kept)
    assert len(kept[0].content) == chat.CONTEXT_TEXT + len(chat.TRUNCATED)
    [shown] = seen.variants
    assert (shown.id, shown.provider_metadata, shown.generation_provenance) == (variant.id, None, None)
    assert json.loads(shown.recipe)["prompt"] == "a hero"


async def _give_provider_metadata(world: SpaceWorld, variant: VariantRow, metadata: dict) -> None:
    """As a completed generation stores it (committed by replay, then published, like `add_variant`)."""
    seq = await world.seq() + 1
    updated = variant.model_copy(update={"provider_metadata": json.dumps(metadata), "generation_provenance": "{}"})
    event = VariantUpdated(space_id=world.space_id, seq=seq, at=variant.created_at, variant=updated)
    await world.service.replay(world.space_id, [event])
    await world.service.publisher.publish(event)


async def test_the_context_names_the_reply_already_posted_to_the_turn_with_its_metadata(world: SpaceWorld):
    turn = await say(world, "hello")
    before = await context(world, turn.id)
    posted = await world.apply(
        PostChatReply,
        EDITOR,
        request_id=reply_id(turn.id),
        reply_to=turn.id,
        message_id=reply_id(turn.id),
        content="y" * (chat.CONTEXT_TEXT + 10),
        metadata={"model": "claude-test", "provider": "anthropic", "inputTokens": 70, "outputTokens": 3},
    )
    stored = posted.events[0].message

    after = await context(world, turn.id)

    assert before.reply is None
    assert after.reply is not None and after.reply.id == reply_id(turn.id) and after.turn == turn
    assert after.reply.metadata == stored.metadata
    assert after.reply.content == "y" * chat.CONTEXT_TEXT + chat.TRUNCATED
    assert after.messages == []  # the reply comes after the turn: it is not one of the messages before it


async def test_the_context_of_an_unknown_message_is_not_found(world: SpaceWorld):
    with pytest.raises(NotFound):
        await context(world, "no-such-message")
