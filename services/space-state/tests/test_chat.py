"""The conversation on the owner: messages, the turn on CHAT, the bot's reply, approvals and what they run."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import nats.js.errors
import pytest

from makefx_bus import Bus
from makefx_contracts.chat import ChatTurn, reply_id
from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied, Unavailable, ValidationFailed
from makefx_contracts.rows import ApprovalStatus, ChatMessageRow, ChatMode, ChatRole, VariantStatus
from makefx_contracts.space import (
    Applied,
    ApproveAction,
    CancelVariant,
    ClearChat,
    CompleteVariant,
    FailVariant,
    GetAsset,
    GetChatHistory,
    GetEventsSince,
    ListApprovals,
    PostChatReply,
    RejectAction,
    RetryVariant,
    SendChat,
    StartGeneration,
    ToolCall,
)
from makefx_contracts.subjects import CHAT_REQUESTS, STREAM_CHAT
from makefx_space_state.errors import PublishFailed
from makefx_space_state.publisher import BusEventPublisher, BusJobPublisher, BusTurnPublisher

from .conftest import EDITOR, OWNER, VIEWER, SpaceWorld
from .test_generation import jobs_for, media


class RecordingTurns:
    """Queues turns on the real bus, refusing the first `failures` like an unreachable JetStream; counts tries."""

    def __init__(self, bus: Bus, failures: int = 0) -> None:
        self.real = BusTurnPublisher(bus)
        self.failures = failures
        self.tries: list[str] = []

    async def publish_turn(self, turn: ChatTurn) -> None:
        self.tries.append(turn.message_id)
        if self.failures > 0:
            self.failures -= 1
            raise PublishFailed("JetStream did not answer")
        await self.real.publish_turn(turn)


@pytest.fixture
def turns(bus: Bus) -> RecordingTurns:
    return RecordingTurns(bus)


@pytest.fixture
def world(tmp_path: Path, bus: Bus, make_world, turns: RecordingTurns) -> SpaceWorld:
    clock = itertools.count(1_800_000_000_000)
    return make_world(
        tmp_path / "replica",
        BusEventPublisher(bus),
        jobs=BusJobPublisher(bus),
        turns=turns,
        clock=lambda: next(clock),
    )


async def turns_for(bus: Bus, space_id: str) -> list[tuple[str, ChatTurn]]:
    """Every turn CHAT holds for a space, with its Nats-Msg-Id, in order."""
    found = []
    seq = 1
    while True:
        try:
            message = await bus.js.get_msg(STREAM_CHAT, seq=seq, subject=CHAT_REQUESTS.fill(), next=True)
        except nats.js.errors.NotFoundError:
            return found
        turn = ChatTurn.model_validate_json(message.data)
        if turn.space_id == space_id:
            found.append((message.headers["Nats-Msg-Id"], turn))
        seq = message.seq + 1


async def ask(world: SpaceWorld, content: str = "make me a fox", mode: ChatMode = ChatMode.ACTOR) -> ChatMessageRow:
    applied = await world.apply(SendChat, EDITOR, content=content, mode=mode)
    return applied.events[0].message


async def reply(world: SpaceWorld, asked: ChatMessageRow, *calls: tuple[str, dict[str, Any]], **fields) -> Applied:
    """The chat service's answer, as it posts it: on behalf of who asked, under the reply's own id."""
    message_id = reply_id(asked.id)
    fields.setdefault("content", "Shall I?")
    tool_calls = [ToolCall(id=f"call-{index}", name=name, input=args) for index, (name, args) in enumerate(calls)]
    return await world.apply(
        PostChatReply,
        EDITOR,
        request_id=message_id,
        reply_to=asked.id,
        message_id=message_id,
        tool_calls=tool_calls,
        metadata={"model": "claude-test", "outputTokens": 12},
        **fields,
    )


async def history(world: SpaceWorld, **fields) -> list[ChatMessageRow]:
    return (await world.service.get_chat_history(GetChatHistory(space_id=world.space_id, **fields))).messages


async def approvals(world: SpaceWorld, status: ApprovalStatus | None = ApprovalStatus.PENDING):
    return (await world.service.list_approvals(ListApprovals(space_id=world.space_id, status=status))).approvals


FOX = {"name": "Fox", "assetType": "character", "prompt": "a red fox"}


# -- a person's message and the turn ---------------------------------------------------------


async def test_a_message_is_stored_broadcast_and_queued_once_as_a_turn_named_by_its_id(world: SpaceWorld, bus: Bus):
    command = world.command(SendChat, EDITOR, content="What is in this space?", mode="advisor")

    applied = await world.service.apply(command)
    again = await world.service.apply(command)

    [event] = applied.events
    message = event.message
    assert event.type == "chat:message" and event.actor_id == EDITOR.user_id
    assert (message.role, message.mode, message.content, message.created_by) == (
        ChatRole.USER,
        ChatMode.ADVISOR,
        "What is in this space?",
        EDITOR.user_id,
    )
    assert again.duplicate and again.events == applied.events
    assert await history(world) == [message]
    [(msg_id, turn)] = await turns_for(bus, world.space_id)
    assert msg_id == message.id
    assert (turn.message_id, turn.mode, turn.actor, turn.at) == (
        message.id,
        ChatMode.ADVISOR,
        EDITOR,
        message.created_at,
    )


async def test_viewers_can_neither_chat_clear_nor_decide(world: SpaceWorld):
    asked = await ask(world)
    await reply(world, asked, ("tag_asset", {"assetId": "a", "tags": ["x"]}))
    [approval] = await approvals(world)

    for kind, fields in (
        (SendChat, {"content": "hi"}),
        (ClearChat, {}),
        (ApproveAction, {"approval_id": approval.id}),
        (RejectAction, {"approval_id": approval.id}),
    ):
        with pytest.raises(PermissionDenied):
            await world.apply(kind, VIEWER, **fields)
    assert [a.status for a in await approvals(world, None)] == [ApprovalStatus.PENDING]


async def test_a_turn_jetstream_refused_is_unavailable_and_queued_by_the_retry_with_the_same_request_id(
    tmp_path: Path, bus: Bus, make_world
):
    turns = RecordingTurns(bus, failures=1)
    world = make_world(tmp_path / "replica", BusEventPublisher(bus), turns=turns)
    command = world.command(SendChat, EDITOR, content="hello")

    with pytest.raises(Unavailable, match="retry with the same requestId"):
        await world.service.apply(command)
    [message] = await history(world)
    assert await turns_for(bus, world.space_id) == []

    retried = await world.service.apply(command)

    assert retried.duplicate and retried.events[0].message == message
    assert [msg_id for msg_id, _ in await turns_for(bus, world.space_id)] == [message.id]
    assert await history(world) == [message]


async def test_a_retry_after_the_reply_is_posted_asks_the_bot_nothing(world: SpaceWorld, turns: RecordingTurns):
    command = world.command(SendChat, EDITOR, content="hello")
    asked = (await world.service.apply(command)).events[0].message
    await reply(world, asked, content="Hi!")

    await world.service.apply(command)

    assert turns.tries == [asked.id]


async def test_clearing_empties_the_conversation_but_keeps_approvals(world: SpaceWorld):
    asked = await ask(world)
    await reply(world, asked, ("tag_asset", {"assetId": "a", "tags": ["x"]}))
    unanswered = await ask(world, "and then?")

    cleared = await world.apply(ClearChat, EDITOR)

    assert [event.type for event in cleared.events] == ["chat:cleared"]
    assert await history(world) == []
    [approval] = await approvals(world)
    assert approval.status is ApprovalStatus.PENDING and approval.message_id is None
    with pytest.raises(NotFound):  # the bot was still thinking: its answer has nothing left to answer
        await reply(world, unanswered, content="too late")


# -- the bot's reply ---------------------------------------------------------------------------


async def test_a_reply_is_stored_once_and_each_tool_call_becomes_a_pending_approval(world: SpaceWorld):
    asked = await ask(world)

    posted = await reply(world, asked, ("generate", FOX), ("rename_asset", {"assetId": "a1", "name": "Vixen"}))
    again = await reply(world, asked, ("generate", FOX))

    assert [event.type for event in posted.events] == ["chat:message", "approval:created", "approval:created"]
    message = posted.events[0].message
    assert (message.id, message.role, message.mode, message.created_by) == (
        reply_id(asked.id),
        ChatRole.ASSISTANT,
        ChatMode.ACTOR,
        None,
    )
    assert json.loads(message.tool_calls) == [
        {"id": "call-0", "name": "generate", "input": FOX},
        {"id": "call-1", "name": "rename_asset", "input": {"assetId": "a1", "name": "Vixen"}},
    ]
    assert json.loads(message.metadata) == {"model": "claude-test", "outputTokens": 12}
    first, second = (event.approval for event in posted.events[1:])
    assert (first.status, first.message_id, first.tool_call_id, first.tool_name, first.created_by) == (
        ApprovalStatus.PENDING,
        message.id,
        "call-0",
        "generate",
        EDITOR.user_id,
    )
    assert json.loads(first.tool_input) == FOX and second.tool_name == "rename_asset"
    assert again.duplicate and again.events == posted.events
    assert await approvals(world) == [first, second]
    assert [m.role for m in await history(world)] == [ChatRole.USER, ChatRole.ASSISTANT]


async def test_a_reply_to_an_unknown_message_or_to_the_bot_is_not_found(world: SpaceWorld):
    asked = await ask(world)
    bot = (await reply(world, asked, content="Hello")).events[0].message

    with pytest.raises(NotFound):
        await world.apply(PostChatReply, EDITOR, reply_to="nope", message_id="m1", content="x")
    with pytest.raises(NotFound):
        await world.apply(PostChatReply, EDITOR, reply_to=bot.id, message_id="m2", content="x")


async def test_tool_calls_in_advisor_mode_or_with_bad_input_are_refused_and_store_nothing(world: SpaceWorld):
    advised = await ask(world, mode=ChatMode.ADVISOR)
    with pytest.raises(ValidationFailed, match="only in actor mode"):
        await reply(world, advised, ("generate", FOX))

    acted = await ask(world)
    with pytest.raises(ValidationFailed, match="no tool named 'launch'"):
        await reply(world, acted, ("launch", {}))
    with pytest.raises(ValidationFailed, match="generate call's input is invalid"):
        await reply(world, acted, ("generate", {"name": "Fox"}))

    assert [m.id for m in await history(world)] == [advised.id, acted.id]
    assert await approvals(world, None) == []


# -- approvals -------------------------------------------------------------------------------------


async def _proposed(world: SpaceWorld, name: str, args: dict[str, Any]):
    asked = await ask(world)
    posted = await reply(world, asked, (name, args))
    return posted.events[1].approval


async def test_an_approved_generation_runs_as_the_approver_and_queues_its_job(world: SpaceWorld, bus: Bus):
    approval = await _proposed(world, "generate", FOX)

    applied = await world.apply(ApproveAction, OWNER, approval_id=approval.id)

    assert [event.type for event in applied.events] == [
        "asset:created",
        "variant:created",
        "approval:updated",
        "chat:message",
        "variant:updated",
    ]
    asset, variant = applied.events[0].asset, applied.events[1].variant
    assert (asset.name, asset.created_by, variant.created_by) == ("Fox", OWNER.user_id, OWNER.user_id)
    assert all(event.actor_id == OWNER.user_id for event in applied.events)
    decided = applied.events[2].approval
    assert (decided.status, decided.decided_by) == (ApprovalStatus.EXECUTED, OWNER.user_id)
    assert json.loads(decided.result) == {"assetId": asset.id, "variantId": variant.id}
    told = applied.events[3].message
    assert (told.role, told.tool_call_id, told.created_by) == (ChatRole.TOOL, "call-0", OWNER.user_id)
    assert json.loads(told.metadata)["status"] == "executed" and asset.id in told.content
    assert applied.events[4].variant.status is VariantStatus.PROCESSING
    [(msg_id, job)] = await jobs_for(bus, variant.id)
    assert msg_id == f"{variant.id}:1" and job.actor == OWNER
    assert await approvals(world) == []
    assert (await history(world))[-1] == told


async def test_an_approval_is_decided_once(world: SpaceWorld):
    approval = await _proposed(world, "rename_asset", {"assetId": (await world.create_asset()).id, "name": "Vixen"})
    await world.apply(ApproveAction, EDITOR, approval_id=approval.id)

    with pytest.raises(InvalidState, match=r"already executed by user-editor: it can't be decided twice"):
        await world.apply(ApproveAction, OWNER, approval_id=approval.id)
    with pytest.raises(InvalidState, match="can't be decided twice"):
        await world.apply(RejectAction, OWNER, approval_id=approval.id)
    with pytest.raises(NotFound):
        await world.apply(ApproveAction, OWNER, approval_id="no-such-approval")
    [asset] = (await world.state()).assets
    assert asset.name == "Vixen"


async def test_a_rejection_runs_nothing(world: SpaceWorld, bus: Bus):
    approval = await _proposed(world, "generate", FOX)

    rejected = await world.apply(RejectAction, EDITOR, approval_id=approval.id)

    [event] = rejected.events
    assert event.type == "approval:updated"
    assert (event.approval.status, event.approval.decided_by) == (ApprovalStatus.REJECTED, EDITOR.user_id)
    assert event.approval.result is None and (await world.state()).assets == []
    with pytest.raises(InvalidState, match="already rejected by user-editor"):
        await world.apply(ApproveAction, EDITOR, approval_id=approval.id)
    assert [a.status for a in await approvals(world, None)] == [ApprovalStatus.REJECTED]


async def test_an_editor_approving_a_delete_fails_the_approval_and_deletes_nothing(world: SpaceWorld):
    parent = await world.create_asset("Parent")
    child = await world.create_asset("Child", parent_asset_id=parent.id)
    approval = await _proposed(world, "delete_asset", {"assetId": parent.id})

    applied = await world.apply(ApproveAction, EDITOR, approval_id=approval.id)

    assert [event.type for event in applied.events] == ["approval:updated", "chat:message"]
    failed = applied.events[0].approval
    assert failed.status is ApprovalStatus.FAILED and failed.decided_by == EDITOR.user_id
    assert failed.error_message == "deleting an asset needs the owner role; you are editor"
    metadata = json.loads(applied.events[1].message.metadata)
    assert (metadata["status"], metadata["code"]) == ("failed", "PERMISSION_DENIED")
    state = await world.state()
    assert {asset.id: asset.parent_asset_id for asset in state.assets} == {parent.id: None, child.id: parent.id}
    assert state.seq == applied.seq


async def test_an_owner_approving_a_delete_runs_it_with_its_children_detached(world: SpaceWorld):
    parent = await world.create_asset("Parent")
    child = await world.create_asset("Child", parent_asset_id=parent.id)
    approval = await _proposed(world, "delete_asset", {"assetId": parent.id})

    applied = await world.apply(ApproveAction, OWNER, approval_id=approval.id)

    assert [event.type for event in applied.events] == [
        "asset:updated",
        "asset:deleted",
        "approval:updated",
        "chat:message",
    ]
    assert json.loads(applied.events[2].approval.result) == {"assetId": parent.id}
    [left] = (await world.state()).assets
    assert left.id == child.id and left.parent_asset_id is None


async def test_a_tool_whose_target_is_gone_fails_and_the_next_one_still_runs(world: SpaceWorld):
    asset = await world.create_asset("Hero")
    asked = await ask(world)
    posted = await reply(
        world,
        asked,
        ("rename_asset", {"assetId": "gone", "name": "X"}),
        ("tag_asset", {"assetId": asset.id, "tags": ["a"]}),
    )
    missing, tagging = (event.approval for event in posted.events[1:])

    failed = await world.apply(ApproveAction, EDITOR, approval_id=missing.id)
    done = await world.apply(ApproveAction, EDITOR, approval_id=tagging.id)

    assert failed.events[0].approval.status is ApprovalStatus.FAILED
    assert "asset gone does not exist" in failed.events[0].approval.error_message
    assert [event.type for event in done.events] == ["asset:updated", "approval:updated", "chat:message"]
    assert done.events[0].asset.tags == '["a"]'
    assert [event.seq for event in failed.events + done.events] == list(range(failed.events[0].seq, done.seq + 1))


# -- how an approved generation ends -------------------------------------------------------------


async def _approved(world: SpaceWorld, name: str = "generate", args: dict[str, Any] = FOX):
    """An approval of `name` approved by the owner; the approval and the variant its job makes."""
    approval = await _proposed(world, name, args)
    applied = await world.apply(ApproveAction, OWNER, approval_id=approval.id)
    variant = next(event.variant for event in applied.events if event.type == "variant:created")
    return approval, variant


async def test_an_approved_generation_that_completes_is_told_to_the_conversation_in_the_same_transaction(
    world: SpaceWorld,
):
    approval, variant = await _approved(world)

    done = await world.apply(CompleteVariant, EDITOR, variant_id=variant.id, attempt=1, media=media(variant.id))
    again = await world.apply(CompleteVariant, EDITOR, variant_id=variant.id, attempt=1, media=media(variant.id))

    assert [event.type for event in done.events] == [
        "variant:updated",
        "asset:updated",
        "generate:result",
        "chat:message",
    ]
    told = done.events[-1].message
    assert (told.role, told.tool_call_id, told.created_by) == (ChatRole.TOOL, "call-0", OWNER.user_id)
    assert told.content == "The image 'Fox' is ready."
    assert json.loads(told.metadata) == {
        "approvalId": approval.id,
        "toolName": "generate",
        "assetId": variant.asset_id,
        "variantId": variant.id,
        "variantStatus": "completed",
    }
    assert (await history(world))[-1] == told
    assert again.events == []  # a repeated report ends nothing, and tells nothing


async def test_a_failed_approved_generation_is_told_with_its_reason_and_its_retry_is_told_again(world: SpaceWorld):
    approval, variant = await _approved(world)

    failed = await world.apply(FailVariant, EDITOR, variant_id=variant.id, attempt=1, error_message="Blocked: unsafe")
    await world.apply(RetryVariant, EDITOR, variant_id=variant.id)
    done = await world.apply(CompleteVariant, EDITOR, variant_id=variant.id, attempt=2, media=media(variant.id))

    assert [event.type for event in failed.events] == ["variant:updated", "generate:result", "chat:message"]
    told = failed.events[-1].message
    assert (told.role, told.tool_call_id) == (ChatRole.TOOL, "call-0")
    assert told.content == "The generation of 'Fox' failed: Blocked: unsafe"
    metadata = json.loads(told.metadata)
    assert (metadata["approvalId"], metadata["variantStatus"], metadata["error"]) == (
        approval.id,
        "failed",
        "Blocked: unsafe",
    )
    assert done.events[-1].message.content == "The image 'Fox' is ready."
    outcomes = [message.content for message in await history(world) if message.role is ChatRole.TOOL]
    assert outcomes[1:] == ["The generation of 'Fox' failed: Blocked: unsafe", "The image 'Fox' is ready."]


async def test_an_approved_refinement_that_completes_or_is_cancelled_is_told(world: SpaceWorld):
    hero = await world.create_asset("Hero")
    source = await world.add_variant(hero.id)
    refine = {"sourceVariantId": source.id, "prompt": "with a hat"}
    _, first = await _approved(world, "refine", refine)
    _, second = await _approved(world, "refine", refine)

    done = await world.apply(CompleteVariant, EDITOR, variant_id=first.id, attempt=1, media=media(first.id))
    cancelled = await world.apply(CancelVariant, EDITOR, variant_id=second.id)

    assert done.events[-1].message.content == "The new variant of the image 'Hero' is ready."
    assert cancelled.events[-1].message.content == "The refinement of 'Hero' failed: Cancelled before it finished."
    assert json.loads(cancelled.events[-1].message.metadata)["toolName"] == "refine"


async def test_a_generation_not_made_by_an_approval_tells_the_conversation_nothing(world: SpaceWorld):
    applied = await world.apply(StartGeneration, EDITOR, name="Owl", asset_type="character", prompt="an owl")
    variant = applied.events[1].variant

    done = await world.apply(CompleteVariant, EDITOR, variant_id=variant.id, attempt=1, media=media(variant.id))

    assert [event.type for event in done.events] == ["variant:updated", "asset:updated", "generate:result"]
    assert await history(world) == []


async def test_a_generation_whose_conversation_was_cleared_ends_without_a_message(world: SpaceWorld):
    _, variant = await _approved(world)
    await world.apply(ClearChat, EDITOR)

    done = await world.apply(CompleteVariant, EDITOR, variant_id=variant.id, attempt=1, media=media(variant.id))

    assert [event.type for event in done.events] == ["variant:updated", "asset:updated", "generate:result"]
    assert await history(world) == []


# -- replay and queries -------------------------------------------------------------------------


async def test_replaying_the_chat_events_on_a_fresh_replica_reproduces_messages_and_approvals(
    tmp_path: Path, bus: Bus, make_world, world: SpaceWorld
):
    first = await ask(world, "first")
    await reply(world, first, content="noted")
    await world.apply(ClearChat, EDITOR)
    second = await ask(world)
    posted = await reply(world, second, ("generate", FOX), ("tag_asset", {"assetId": "a", "tags": ["x"]}))
    approved = await world.apply(ApproveAction, EDITOR, approval_id=posted.events[1].approval.id)
    await world.apply(RejectAction, EDITOR, approval_id=posted.events[2].approval.id)
    made = approved.events[1].variant
    await world.apply(CompleteVariant, EDITOR, variant_id=made.id, attempt=1, media=media(made.id))
    log = await world.service.get_events_since(GetEventsSince(space_id=world.space_id, since_seq=0))

    other = make_world(tmp_path / "other", BusEventPublisher(bus), space_id=world.space_id)
    await other.service.replay(world.space_id, log.events)

    assert await history(other) == await history(world)
    assert [m.content for m in await history(other)][:2] == ["make me a fox", "Shall I?"]
    assert (await history(other))[-1].content == "The image 'Fox' is ready."
    assert await approvals(other, None) == await approvals(world, None)
    assert await other.state() == await world.state()


async def test_history_pages_back_from_the_newest_oldest_first(world: SpaceWorld):
    sent = [await ask(world, f"message {index}") for index in range(5)]

    newest = await history(world, limit=2)
    older = await history(world, limit=2, before=newest[0].created_at)

    assert newest == sent[3:] and older == sent[1:3]
    assert await history(world, before=sent[0].created_at) == []


async def test_approvals_are_listed_by_status_oldest_first(world: SpaceWorld):
    asked = await ask(world)
    posted = await reply(world, asked, *[("tag_asset", {"assetId": "a", "tags": [str(i)]}) for i in range(3)])
    made = [event.approval for event in posted.events[1:]]
    await world.apply(RejectAction, EDITOR, approval_id=made[1].id)

    assert [a.id for a in await approvals(world)] == [made[0].id, made[2].id]
    assert [a.id for a in await approvals(world, ApprovalStatus.REJECTED)] == [made[1].id]
    assert [a.id for a in await approvals(world, None)] == [a.id for a in made]


async def test_chat_commands_leave_the_canvas_alone(world: SpaceWorld):
    hero = await world.create_asset("Hero")
    await ask(world)

    detail = await world.service.get_asset(GetAsset(space_id=world.space_id, asset_id=hero.id))

    assert detail.asset == hero and (await world.state()).assets == [hero]
