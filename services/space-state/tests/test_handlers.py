"""The service as wired by `bootstrap`, answering typed requests on `fx.state.<replica>.cmd` of a real nats-server."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from makefx_bus import Bus
from makefx_contracts import ErrorCode
from makefx_contracts.chat import ChatTurn, reply_id
from makefx_contracts.errors import NotFound, PermissionDenied, Unavailable
from makefx_contracts.space import (
    Applied,
    ApprovalList,
    AssetDetail,
    ChatContext,
    ChatHistory,
    CreateAsset,
    EventsSince,
    GetAsset,
    GetChatContext,
    GetChatHistory,
    GetEventsSince,
    GetSpaceState,
    ListApprovals,
    PostChatReply,
    SendChat,
    SpaceSnapshot,
    SpaceStatePart,
    ToolCall,
)
from makefx_contracts.subjects import CHAT_REQUESTS, STATE_COMMANDS, STREAM_CHAT
from makefx_settings import ServiceSettings
from makefx_space_state.app import bootstrap
from makefx_space_state.settings import SpaceStateSettings


@pytest.fixture
async def replica(tmp_path, nats_server):
    """A running space-state service (bus, responders, idle closer) on its own replica id and data dir."""
    settings = SpaceStateSettings(
        nats_url=nats_server.url, data_dir=tmp_path / "data", replica_id=f"state-{uuid.uuid4().hex[:8]}"
    )
    app = bootstrap(settings)
    async with app.router.lifespan_context(app):
        await _subscribed(app)
        yield settings, app


async def _subscribed(app) -> None:
    """Wait until the server has the replica's subscription (a PING/PONG round trip on its connection)."""
    await app.state.service.bus.nats.flush(timeout=30)


@pytest.fixture
async def client(nats_server):
    bus = Bus(ServiceSettings(nats_url=nats_server.url, service_name="gateway-test"))
    await bus.start()
    yield bus
    await bus.stop()


def _create(space_id: str, role: str = "owner", request_id: str | None = None) -> CreateAsset:
    return CreateAsset(
        space_id=space_id,
        request_id=request_id or uuid.uuid4().hex,
        actor={"user_id": "u1", "role": role},
        name="Hero",
        asset_type="character",
    )


async def test_a_command_on_the_replicas_subject_is_applied_and_answered(replica, client):
    settings, _ = replica
    subject = STATE_COMMANDS.fill(replica=settings.replica_id)
    space_id = uuid.uuid4().hex
    command = _create(space_id)

    applied = await client.request(command, subject=subject)
    retried = await client.request(command, subject=subject)

    assert isinstance(applied, Applied) and applied.seq == 1 and applied.events[0].asset.name == "Hero"
    assert retried.duplicate and retried.events == applied.events
    assert (settings.data_dir / "spaces" / space_id[:2] / f"{space_id}.sqlite").is_file()


async def test_queries_are_answered_with_their_reply_types(replica, client):
    settings, _ = replica
    subject = STATE_COMMANDS.fill(replica=settings.replica_id)
    space_id = uuid.uuid4().hex
    asset = (await client.request(_create(space_id), subject=subject)).events[0].asset

    state = await client.request(GetSpaceState(space_id=space_id), subject=subject)
    since = await client.request(GetEventsSince(space_id=space_id, since_seq=0), subject=subject)
    detail = await client.request(GetAsset(space_id=space_id, asset_id=asset.id), subject=subject)

    assert isinstance(state, SpaceStatePart) and (state.part, state.parts, state.seq) == (0, 1, 1)
    assert SpaceSnapshot.model_validate_json(
        f'{{"type":"space:snapshot","spaceId":"{space_id}","seq":{state.seq},' + state.body[1:]
    ).assets == [asset]
    assert isinstance(since, EventsSince) and [event.seq for event in since.events] == [1]
    assert isinstance(detail, AssetDetail) and detail.asset == asset


async def test_a_chat_message_queues_its_turn_and_the_chat_queries_are_answered(replica, client):
    settings, _ = replica
    subject = STATE_COMMANDS.fill(replica=settings.replica_id)
    space_id = uuid.uuid4().hex
    actor = {"user_id": "u1", "role": "editor"}
    send = SendChat(space_id=space_id, request_id=uuid.uuid4().hex, actor=actor, content="a fox?", mode="actor")
    asked = (await client.request(send, subject=subject)).events[0].message
    stored = await client.js.get_last_msg(STREAM_CHAT, CHAT_REQUESTS.fill())
    answer = PostChatReply(
        space_id=space_id,
        request_id=reply_id(asked.id),
        actor=actor,
        reply_to=asked.id,
        message_id=reply_id(asked.id),
        content="Shall I?",
        tool_calls=[ToolCall(id="c1", name="tag_asset", input={"assetId": "a", "tags": ["fox"]})],
    )
    await client.request(answer, subject=subject)

    history = await client.request(GetChatHistory(space_id=space_id), subject=subject)
    pending = await client.request(ListApprovals(space_id=space_id), subject=subject)
    context = await client.request(GetChatContext(space_id=space_id, message_id=answer.message_id), subject=subject)

    turn = ChatTurn.model_validate_json(stored.data)
    assert (turn.space_id, turn.message_id, stored.headers["Nats-Msg-Id"]) == (space_id, asked.id, asked.id)
    assert isinstance(history, ChatHistory) and [m.id for m in history.messages] == [asked.id, answer.message_id]
    assert isinstance(pending, ApprovalList) and [a.tool_call_id for a in pending.approvals] == ["c1"]
    assert isinstance(context, ChatContext) and context.messages == [asked]


async def test_refusals_arrive_as_typed_errors(replica, client):
    settings, _ = replica
    subject = STATE_COMMANDS.fill(replica=settings.replica_id)
    space_id = uuid.uuid4().hex

    with pytest.raises(PermissionDenied) as refused:
        await client.request(_create(space_id, role="viewer"), subject=subject)
    assert refused.value.code is ErrorCode.PERMISSION_DENIED
    with pytest.raises(NotFound):
        await client.request(GetAsset(space_id=space_id, asset_id="missing"), subject=subject)


async def test_a_malformed_or_unknown_request_gets_invalid_message(replica, client):
    settings, _ = replica
    subject = STATE_COMMANDS.fill(replica=settings.replica_id)
    for payload in (b'{"type": "space:createAsset", "spaceId": "s"}', b'{"type": "space:explode"}', b"not json"):
        reply = await client.nats.request(subject, payload, timeout=30)
        error = json.loads(reply.data)
        assert (error["type"], error["code"]) == ("error", "INVALID_MESSAGE")


async def test_another_replicas_subject_is_not_answered_here(replica, client):
    with pytest.raises(Unavailable):
        await client.request(
            _create(uuid.uuid4().hex), subject=STATE_COMMANDS.fill(replica="state-elsewhere"), timeout=0.5
        )


async def test_stopping_the_service_closes_its_spaces_with_the_published_seq_saved(tmp_path, nats_server, client):
    settings = SpaceStateSettings(nats_url=nats_server.url, data_dir=tmp_path / "data", replica_id="state-stop")
    subject = STATE_COMMANDS.fill(replica=settings.replica_id)
    space_id = uuid.uuid4().hex
    app = bootstrap(settings)
    async with app.router.lifespan_context(app):
        await _subscribed(app)
        await client.request(_create(space_id), subject=subject)
        await client.request(_create(space_id), subject=subject)
        assert app.state.service.extra["spaces"].open_space_ids == [space_id]

    assert app.state.service.extra["spaces"].open_space_ids == []
    connection = sqlite3.connect(settings.data_dir / "spaces" / space_id[:2] / f"{space_id}.sqlite")
    assert connection.execute("SELECT value FROM meta WHERE key = 'published_seq'").fetchone() == ("2",)
    connection.close()
