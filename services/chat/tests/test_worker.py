"""The chat worker over real NATS, a real space-state replica and the real chat process."""

from __future__ import annotations

import asyncio
import json
import uuid

import anthropic
import nats

from makefx_chat.claude import ClaudeAssistant
from makefx_chat.settings import ChatSettings
from makefx_chat.worker import TurnWorker
from makefx_contracts.chat import ChatTurn, reply_id
from makefx_contracts.rows import ChatMode, MediaKind
from makefx_contracts.space import CreateAsset, ListApprovals
from makefx_contracts.subjects import STREAM_CHAT

from .conftest import Person, Stack, usage_events
from .fake_anthropic import FakeAnthropic, ToolUse, overloaded, said


async def turns_done(stack: Stack, *, timeout: float = 30) -> None:
    """Wait until every queued turn is acknowledged (`CHAT` is a work queue: an ack removes the turn)."""
    client = await nats.connect(stack.nats.url)
    try:
        async with asyncio.timeout(timeout):
            while (await client.jetstream().stream_info(STREAM_CHAT)).state.messages:  # noqa: ASYNC110 - polled
                await asyncio.sleep(0.1)
    finally:
        await client.close()


async def fox(stack: Stack, space_id: str, owner: Person) -> str:
    assert stack.router is not None
    applied = await stack.router.request(
        space_id,
        CreateAsset(
            space_id=space_id,
            request_id=uuid.uuid4().hex,
            actor=owner.actor(),
            name="Fox",
            asset_type="character",
            media_kind=MediaKind.IMAGE,
        ),
    )
    return applied.events[0].asset.id


async def test_a_turn_streams_deltas_on_the_spaces_subject_then_one_reply_is_stored_and_one_usage_event_recorded(
    stack: Stack,
):
    owner = await stack.register("Owner")
    space_id = await stack.space(owner)
    await fox(stack, space_id, owner)

    async with stack.deltas(space_id) as deltas:
        asked = await stack.send(space_id, owner, "What is in this space?")
        reply = await stack.reply_to(space_id, asked)
        await turns_done(stack)

    assert reply.id == reply_id(asked)
    assert "This space has 1 image (Fox)." in reply.content
    streamed = deltas.of(reply.id)
    assert [delta.index for delta in streamed] == list(range(len(streamed))) and len(streamed) >= 2
    assert "".join(delta.text for delta in streamed) == reply.content
    metadata = json.loads(reply.metadata or "{}")
    assert (metadata["model"], metadata["provider"], metadata["stopReason"]) == ("local", "local", "end_turn")
    [usage] = await usage_events(stack, 1)
    assert usage["id"] == usage["msgId"] == reply.id
    assert (usage["userId"], usage["spaceId"], usage["kind"], usage["unit"]) == (
        owner.user_id,
        space_id,
        "chat.tokens",
        "tokens",
    )
    assert usage["quantity"] == metadata["inputTokens"] + metadata["outputTokens"] > 0
    assert (usage["provider"], usage["model"], usage["credits"]) == ("local", "local", 0)


async def test_an_actor_turn_with_claude_stores_proposals_as_pending_approvals_and_leaves_out_invalid_ones(
    claude_stack: Stack, claude: FakeAnthropic
):
    stack = claude_stack
    owner = await stack.register("Owner")
    space_id = await stack.space(owner)
    fox_id = await fox(stack, space_id, owner)
    generate = {"name": "Owl", "assetType": "character", "mediaKind": "image", "prompt": "a snowy owl"}
    claude.script(
        said(
            "I propose ",
            "an owl.",
            tools=(
                ToolUse("toolu_1", "generate", generate),
                ToolUse("toolu_2", "rename_asset", {"assetId": fox_id}),
            ),
            input_tokens=1000,
            output_tokens=200,
        )
    )

    async with stack.deltas(space_id) as deltas:
        asked = await stack.send(space_id, owner, "Add an owl, and rename the fox", ChatMode.ACTOR)
        reply = await stack.reply_to(space_id, asked)

    [request] = claude.requests
    assert request.body["model"] == "claude-sonnet-5-5" and request.body["stream"] is True
    assert f'- "Fox" (asset {fox_id}): character, image' in request.body["system"]
    assert "Mode: actor" in request.body["system"]
    assert [tool["name"] for tool in request.body["tools"]] == [
        "generate",
        "refine",
        "fork",
        "rename_asset",
        "tag_asset",
        "delete_asset",
    ]
    assert request.body["messages"] == [{"role": "user", "content": "Add an owl, and rename the fox"}]
    assert [delta.text for delta in deltas.of(reply.id)] == ["I propose ", "an owl."]
    assert reply.content.startswith("I propose an owl.\n\n(A proposed “rename_asset” was left out:")
    assert json.loads(reply.tool_calls or "[]") == [{"id": "toolu_1", "name": "generate", "input": generate}]
    assert stack.router is not None
    pending = (await stack.router.request(space_id, ListApprovals(space_id=space_id))).approvals
    assert [(a.tool_call_id, a.tool_name, json.loads(a.tool_input)) for a in pending] == [
        ("toolu_1", "generate", generate)
    ]
    metadata = json.loads(reply.metadata or "{}")
    assert metadata == {
        "model": "claude-sonnet-5-5",
        "provider": "anthropic",
        "inputTokens": 1000,
        "outputTokens": 200,
        "stopReason": "tool_use",
    }
    [usage] = await usage_events(stack, 1)
    assert (usage["id"], usage["quantity"], usage["provider"]) == (reply.id, 1200, "anthropic")
    assert usage["credits"] == round(1000 * 0.075 / 1000 + 200 * 0.375 / 1000, 6)


async def test_claude_overloaded_past_the_retries_is_answered_with_a_reply_saying_so_and_nothing_is_metered(
    claude_stack: Stack, claude: FakeAnthropic
):
    stack = claude_stack
    claude.script(overloaded())
    owner = await stack.register("Owner")
    space_id = await stack.space(owner)

    asked = await stack.send(space_id, owner, "Hello?")
    reply = await stack.reply_to(space_id, asked)
    await turns_done(stack)

    assert len(claude.requests) == 2  # the SDK's one retry (MAKEFX_ANTHROPIC_MAX_RETRIES=1)
    assert reply.content == "Claude is overloaded right now (529); try again in a minute."
    assert json.loads(reply.metadata or "{}")["error"] == {
        "code": "PROVIDER_FAILED",
        "message": "Claude is overloaded right now (529); try again in a minute.",
    }
    assert await usage_events(stack, 0) == []


async def test_a_turn_queued_twice_is_stored_once_and_metered_once(claude_stack: Stack, claude: FakeAnthropic):
    stack = claude_stack
    claude.script(said("Hello there.", input_tokens=50, output_tokens=5))
    owner = await stack.register("Owner")
    space_id = await stack.space(owner)
    asked = await stack.send(space_id, owner, "Hi!")
    reply = await stack.reply_to(space_id, asked)
    await turns_done(stack)

    # The same turn again, as a crash of the owner between queueing and answering would leave it.
    turn = ChatTurn(space_id=space_id, message_id=asked, mode=ChatMode.ADVISOR, actor=owner.actor(), at=0)
    assert stack.bus is not None
    await stack.bus.persist(turn, msg_id=f"{asked}-again")
    await turns_done(stack)

    assert len(claude.requests) == 1  # the second copy found the reply stored and asked Claude nothing
    replies = [message for message in await stack.history(space_id) if message.role == "assistant"]
    assert [message.id for message in replies] == [reply.id]
    assert [usage["id"] for usage in await usage_events(stack, 1)] == [reply.id]


def _worker(stack: Stack, claude: FakeAnthropic) -> TurnWorker:
    """A second chat worker in the test's process, talking to the fake Messages API."""
    assert stack.bus is not None and stack.router is not None
    client = anthropic.AsyncAnthropic(api_key=claude.api_key, base_url=claude.url, max_retries=0)
    return TurnWorker(
        stack.bus,
        stack.router,
        ClaudeAssistant(client, model="claude-sonnet-5-5", max_tokens=100),
        ChatSettings(nats_url=stack.nats.url),
    )


async def test_two_copies_of_a_turn_answered_at_once_by_one_worker_ask_claude_once(
    claude_stack: Stack, claude: FakeAnthropic
):
    stack = claude_stack
    claude.script(said("Just ", "once.", input_tokens=40, output_tokens=4))
    owner = await stack.register("Owner")
    space_id = await stack.space(owner)
    stack.processes["chat"].stop()  # the turn waits in CHAT; only the worker below answers it
    asked = await stack.send(space_id, owner, "Hello twice")
    worker = _worker(stack, claude)
    turn = ChatTurn(space_id=space_id, message_id=asked, mode=ChatMode.ADVISOR, actor=owner.actor(), at=0)

    await asyncio.gather(worker.run(turn), worker.run(turn))

    assert len(claude.requests) == 1
    replies = [message for message in await stack.history(space_id) if message.role == "assistant"]
    assert [(message.id, message.content) for message in replies] == [(reply_id(asked), "Just once.")]
    [usage] = await usage_events(stack, 1)
    assert (usage["id"], usage["quantity"]) == (reply_id(asked), 44)


async def test_a_redelivered_turn_whose_reply_is_stored_is_not_answered_again_and_its_usage_stays_one_event(
    claude_stack: Stack, claude: FakeAnthropic
):
    stack = claude_stack
    claude.script(said("Once.", input_tokens=70, output_tokens=3))
    owner = await stack.register("Owner")
    space_id = await stack.space(owner)
    asked = await stack.send(space_id, owner, "Say it once")
    reply = await stack.reply_to(space_id, asked)
    await turns_done(stack)
    worker = _worker(stack, claude)

    # What JetStream delivers again when a worker crashed after the owner stored the reply, before its ack.
    turn = ChatTurn(space_id=space_id, message_id=asked, mode=ChatMode.ADVISOR, actor=owner.actor(), at=0)
    await worker.run(turn)

    assert len(claude.requests) == 1
    replies = [message for message in await stack.history(space_id) if message.role == "assistant"]
    assert [message.id for message in replies] == [reply.id]
    [usage] = await usage_events(stack, 1)
    assert (usage["id"], usage["quantity"]) == (reply.id, 73)


async def test_a_turn_is_handed_back_while_the_owner_is_down_and_answered_once_it_is_back(stack: Stack):
    owner = await stack.register("Owner")
    space_id = await stack.space(owner)
    chat, state = stack.processes["chat"], stack.processes["space-state"]
    chat.stop()
    asked = await stack.send(space_id, owner, "Are you there?")
    state.stop()

    chat.start()
    await chat.wait_ready()
    async with asyncio.timeout(60):
        while "again in" not in chat.log.read_text():  # noqa: ASYNC110 - a log file has no event to wait on
            await asyncio.sleep(0.2)
    state.start()
    await state.wait_ready()
    reply = await stack.reply_to(space_id, asked, timeout=60)
    await turns_done(stack)

    assert reply.id == reply_id(asked) and "This space has no assets yet." in reply.content
    assert [usage["id"] for usage in await usage_events(stack, 1)] == [reply.id]
