"""The chat bot end to end: real processes (NATS, space-state, media, gateway, generation, chat) and real sockets.

The chat service runs its `local` assistant (no Anthropic key) and generation its `local`
providers, so nothing leaves the machine. Two members watch one space: the bot's reply
streams to both as `chat:delta` frames and ends as the same `chat:message` on both; an
actor-mode proposal becomes an approval that an editor approves (a variant is generated,
completes, and the conversation is told) or rejects (nothing is made); a viewer cannot decide.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from makefx_contracts.chat import reply_id
from makefx_testing.gateway_api import Account, create_space, register
from makefx_testing.services import Services
from makefx_testing.sockets import Frame, SocketPeer

pytestmark = pytest.mark.slow

ANSWERS = frozenset({"ack", "error", "chat:error", "chat:history", "approval:list"})
"""Frames that answer a request (events broadcast by it carry its requestId too)."""


class Peer(SocketPeer):
    """A member's socket, with the chat requests and what they lead to."""

    ANSWERS = ANSWERS

    async def chat(self, content: str, mode: str = "advisor") -> str:
        """Send a chat message that must be accepted; the id of the stored message."""
        start = len(self.frames)
        answer = await self.call("chat:send", content=content, mode=mode)
        assert answer["type"] == "ack", answer
        posted = await self.wait_for(
            lambda f: (
                f["type"] == "chat:message" and f["message"]["role"] == "user" and f["message"]["content"] == content
            ),
            start=start,
        )
        return posted["message"]["id"]

    async def reply(self, message_id: str, *, timeout: float = 30) -> Frame:
        """The bot's `chat:message` answering `message_id`."""
        answer = await self.wait_for(
            lambda f: f["type"] == "chat:message" and f["message"]["id"] == reply_id(message_id), timeout=timeout
        )
        return answer["message"]

    def deltas(self, message_id: str) -> list[Frame]:
        return [f for f in self.frames if f["type"] == "chat:delta" and f["messageId"] == reply_id(message_id)]

    async def streamed(self, message_id: str, content: str, *, timeout: float = 30) -> list[Frame]:
        """The reply's deltas once their texts, in index order, spell `content`; in arrival order.

        Deltas come on core NATS and the stored `chat:message` on JetStream, two subscriptions:
        a delta may arrive after the message, so this waits for them. Core NATS may drop one;
        on one local server with two readers none is, and a lost one would end this in a timeout.
        """
        await self.wait_until(lambda: _spelled(self.deltas(message_id)) == content, timeout=timeout)
        return self.deltas(message_id)

    async def approval(self, predicate: Callable[[Frame], bool], *, timeout: float = 30) -> Frame:
        frame = await self.wait_for(
            lambda f: f["type"] in ("approval:created", "approval:updated") and predicate(f["approval"]),
            timeout=timeout,
        )
        return frame["approval"]


def _spelled(deltas: list[Frame]) -> str | None:
    """The deltas' texts in index order, when their indices are exactly 0..n-1 (none missing, none twice)."""
    indices = sorted(delta["index"] for delta in deltas)
    if indices != list(range(len(deltas))):
        return None
    return "".join(delta["text"] for delta in sorted(deltas, key=lambda delta: delta["index"]))


class Product(Services):
    """The services as processes, each `python -m makefx_<name>` with its settings in the environment."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.peers: list[Peer] = []

    async def start(self) -> Product:
        self.start_nats()
        await self.launch(
            self.add("space-state", MAKEFX_REPLICA_ID="state-0"),
            self.add("media"),
            self.add("gateway"),
            self.add("generation"),
            self.add("chat"),
        )
        return self

    async def close(self) -> None:
        """Close the sockets, then stop the services."""
        for peer in self.peers:
            with contextlib.suppress(Exception):
                await peer.close()
        self.stop()

    @property
    def url(self) -> str:
        return self.processes["gateway"].url

    async def register(self, name: str) -> Account:
        return await register(self.url, name)

    async def space(self, owner: Account, **members: tuple[Account, str]) -> str:
        return await create_space(self.url, owner, "Chat", dict(members.values()))

    async def assets(self, space_id: str, token: str) -> list[Frame]:
        async with httpx.AsyncClient(base_url=self.url, timeout=15) as api:
            answer = await api.get(f"/api/spaces/{space_id}/assets", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
            return answer.json()["assets"]

    async def connect(self, space_id: str, token: str) -> Peer:
        peer = await Peer.connect(self.url, space_id, token)
        self.peers.append(peer)
        return peer


@dataclass
class Room:
    space_id: str
    owner: Account
    editor: Account
    viewer: Account
    alice: Peer  # the owner
    bob: Peer  # an editor


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    running = Product(tmp_path)
    try:
        await running.start()
        yield running
    finally:
        await running.close()


@pytest.fixture
async def room(product: Product) -> Room:
    owner, editor, viewer = (
        await product.register("Owner"),
        await product.register("Editor"),
        await product.register("Viewer"),
    )
    space_id = await product.space(owner, editor=(editor, "editor"), viewer=(viewer, "viewer"))
    alice = await product.connect(space_id, owner.token)
    bob = await product.connect(space_id, editor.token)
    return Room(space_id, owner, editor, viewer, alice, bob)


async def test_a_chat_turn_streams_deltas_to_both_sockets_and_ends_with_the_same_bot_message_on_both(room: Room):
    asked = await room.alice.chat("What is in this space?")

    replies = [await peer.reply(asked) for peer in (room.alice, room.bob)]

    assert replies[0] == replies[1]
    reply = replies[0]
    assert reply["role"] == "assistant" and "This space has no assets yet." in reply["content"]
    for peer in (room.alice, room.bob):
        # Promised: the deltas, put in index order, spell the stored message (their arrival order is not).
        deltas = await peer.streamed(asked, reply["content"])
        assert len(deltas) >= 2 and {delta["messageId"] for delta in deltas} == {reply["id"]}
        assert [
            f["message"] for f in peer.frames if f["type"] == "chat:message" and f["message"]["id"] == reply["id"]
        ] == [reply]
    history = await room.bob.call("chat:history")
    assert [(m["role"], m["id"]) for m in history["messages"]] == [("user", asked), ("assistant", reply["id"])]


async def test_an_approved_generate_proposal_runs_as_the_editor_and_its_variant_completes(room: Room):
    asked = await room.alice.chat("Please generate an image of a red fox in the snow", mode="actor")
    reply = await room.bob.reply(asked)
    [call] = json.loads(reply["tool_calls"])
    assert call["name"] == "generate" and call["input"]["prompt"] == "a red fox in the snow"
    pending = await room.alice.approval(lambda a: a["tool_call_id"] == call["id"] and a["status"] == "pending")

    start = len(room.alice.frames)
    assert (await room.bob.call("approval:approve", approvalId=pending["id"]))["type"] == "ack"

    executed = await room.alice.approval(lambda a: a["id"] == pending["id"] and a["status"] != "pending")
    assert executed["status"] == "executed" and executed["decided_by"] == room.editor.id
    variant_id = json.loads(executed["result"])["variantId"]
    created = await room.alice.wait_for(
        lambda f: f["type"] == "asset:created" and f["asset"]["name"] == "Red fox in the snow", start=start
    )
    assert created["asset"]["created_by"] == room.editor.id
    for peer in (room.alice, room.bob):
        result = await peer.wait_for(
            lambda f: f["type"] == "generate:result" and f["variantId"] == variant_id, timeout=90
        )
        assert result["status"] == "completed"
    outcome = await room.bob.wait_for(lambda f: f["type"] == "chat:message" and f["message"]["role"] == "tool")
    assert outcome["message"]["tool_call_id"] == call["id"] and "done" in outcome["message"]["content"]
    for peer in (room.alice, room.bob):
        # The conversation is told when the generation the approval started has ended.
        told = await peer.wait_for(
            lambda f: (
                f["type"] == "chat:message"
                and f["message"]["role"] == "tool"
                and json.loads(f["message"]["metadata"] or "{}").get("variantId") == variant_id
            ),
            timeout=90,
        )
        assert told["message"]["content"] == "The image 'Red fox in the snow' is ready."
        assert told["message"]["tool_call_id"] == call["id"]
        assert json.loads(told["message"]["metadata"])["variantStatus"] == "completed"

    twice = await room.alice.call("approval:approve", approvalId=pending["id"])
    assert twice["type"] == "error" and twice["code"] == "INVALID_STATE"


async def test_a_rejected_proposal_produces_nothing(product: Product, room: Room):
    asked = await room.alice.chat("make a sound effect of rain on a tin roof", mode="actor")
    reply = await room.alice.reply(asked)
    [call] = json.loads(reply["tool_calls"])
    pending = await room.bob.approval(lambda a: a["tool_call_id"] == call["id"])

    assert (await room.bob.call("approval:reject", approvalId=pending["id"]))["type"] == "ack"

    rejected = await room.alice.approval(lambda a: a["id"] == pending["id"] and a["status"] != "pending")
    assert rejected["status"] == "rejected" and rejected["decided_by"] == room.editor.id
    assert (await room.alice.call("approval:list"))["approvals"] == []
    assert await product.assets(room.space_id, room.owner.token) == []
    made = [f for f in room.alice.frames + room.bob.frames if f["type"] in ("asset:created", "variant:created")]
    assert made == []
    again = await room.bob.call("approval:approve", approvalId=pending["id"])
    assert again["type"] == "error" and again["code"] == "INVALID_STATE"


async def test_a_viewers_decision_is_refused_and_the_approval_stays_pending(product: Product, room: Room):
    carol = await product.connect(room.space_id, room.viewer.token)
    asked = await room.alice.chat("create a video of waves at dusk", mode="actor")
    [call] = json.loads((await carol.reply(asked))["tool_calls"])
    pending = await carol.approval(lambda a: a["tool_call_id"] == call["id"])

    approve = await carol.call("approval:approve", approvalId=pending["id"])
    reject = await carol.call("approval:reject", approvalId=pending["id"])

    assert (approve["type"], approve["code"]) == ("error", "PERMISSION_DENIED")
    assert (reject["type"], reject["code"]) == ("error", "PERMISSION_DENIED")
    listed = await carol.call("approval:list")
    assert [(a["id"], a["status"]) for a in listed["approvals"]] == [(pending["id"], "pending")]
    assert await product.assets(room.space_id, room.owner.token) == []
