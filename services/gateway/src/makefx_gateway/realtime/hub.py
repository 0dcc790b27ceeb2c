"""The fan-out: one JetStream subscription per space per gateway, shared by all its sockets.

Event payloads are forwarded as the bytes the space-state owner published (the socket
protocol and the bus share one event model), so an event is encoded once however many
sockets receive it. Beside the events, each room relays what core NATS carries for the
space without a seq: generation progress (`job:progress`) and the chat bot's streamed
text (`chat:delta`), also as published. And each room hears the space's membership
changes, from whichever gateway made them, and applies them to its sockets at once: a
removed member's sockets close (4403), a deleted space's all close (4404), and a member
whose role changed is told so (`member:role`). A notice says whose membership changed;
the database says what it is now, so notices from two gateways arriving out of order
(removed on one, added back on the other) leave each socket with the role it really has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DeliverPolicy
from pydantic import TypeAdapter

from makefx_bus import MSG_ID_HEADER, Bus
from makefx_bus.codec import decode
from makefx_bus.tasks import cancel_and_wait
from makefx_contracts.identity import MembershipChanged, Role
from makefx_contracts.presence import PresenceBeacon
from makefx_contracts.socket import MemberRole, PresenceChanged
from makefx_contracts.subjects import CHAT_DELTAS, GENERATION_PROGRESS, MEMBERSHIP, PRESENCE, SPACE_EVENTS
from makefx_gateway.realtime.connection import (
    CLOSE_NOT_A_MEMBER,
    CLOSE_SERVER_SHUTDOWN,
    CLOSE_SPACE_DELETED,
    NOT_A_MEMBER,
    SPACE_DELETED,
    Connection,
)
from makefx_gateway.realtime.presence import PresenceBoard, local_entries

log = logging.getLogger(__name__)

_BEACON: TypeAdapter[PresenceBeacon] = TypeAdapter(PresenceBeacon)
_MEMBERSHIP: TypeAdapter[MembershipChanged] = TypeAdapter(MembershipChanged)


def event_seq(msg: Msg) -> int:
    """The space seq of a published event, from its `Nats-Msg-Id` (`<spaceId>:<seq>`)."""
    msg_id = (msg.headers or {}).get(MSG_ID_HEADER, "")
    return int(msg_id.rpartition(":")[2])


@dataclass
class Room:
    space_id: str
    connections: set[Connection] = field(default_factory=set)
    subscriptions: list[Subscription] = field(default_factory=list)
    # A presence broadcast waiting to go out, and whether this gateway's beacon goes with it.
    presence_due: asyncio.Task[None] | None = None
    announce_due: bool = False


# Presence changes within this window go out as one frame per socket (and one beacon):
# 1,000 sockets joining cost ~1,000 frames a window instead of ~500,000 in all.
PRESENCE_BATCH_SECONDS = 0.05
PRESENCE_BATCH_MAX_SECONDS = 1.0


def presence_window(sockets: int) -> float:
    """How long a room gathers presence changes before one frame per socket goes out.

    Each window costs a frame to every socket, and in a big room people come and go more
    often: 1,000 sockets joining in 50 ms windows cost ~200,000 frames. The window grows
    with the room (0.05 s up to 100 sockets, 0.5 s at 1,000, at most 1 s), so the frames
    per change stay about the same while a small room still sees a newcomer at once.
    """
    return min(PRESENCE_BATCH_MAX_SECONDS, PRESENCE_BATCH_SECONDS * max(1.0, sockets / 100))


# A room handles its notices one at a time: a stuck database read must not hold up the next one.
_ROLE_READ_SECONDS = 2.0


RoleOf = Callable[[str, str], Awaitable[Role | None]]
"""A member's role in a space as the database has it now (None: not a member)."""


class SpaceHub:
    def __init__(self, bus: Bus, board: PresenceBoard, role_of: RoleOf) -> None:
        self.bus = bus
        self.board = board
        self.role_of = role_of
        self.rooms: dict[str, Room] = {}
        self._guards: dict[str, asyncio.Lock] = {}
        self._beacons: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._beacons = asyncio.create_task(self._beacon_loop())

    async def stop(self) -> None:
        await cancel_and_wait(self._beacons)
        for room in list(self.rooms.values()):
            for connection in list(room.connections):
                connection.close(CLOSE_SERVER_SHUTDOWN, "the gateway is restarting; reconnect")
            await self._close_room(room)
        self.rooms.clear()

    # -- joining -----------------------------------------------------------------------

    async def join(self, connection: Connection) -> None:
        space_id = connection.space_id
        async with self._guard(space_id):
            room = self.rooms.get(space_id)
            if room is None:
                room = Room(space_id)
                await self._open_room(room)
                self.rooms[space_id] = room
            room.connections.add(connection)
        await self.presence_changed(space_id)

    async def leave(self, connection: Connection) -> None:
        space_id = connection.space_id
        async with self._guard(space_id):
            room = self.rooms.get(space_id)
            if room is None:
                return
            room.connections.discard(connection)
            if not room.connections:
                del self.rooms[space_id]
                await self._close_room(room)
                self.board.forget(space_id)
        if space_id in self.rooms:
            await self.presence_changed(space_id)
        else:
            # Tell the other gateways this one has nobody left here.
            await self._announce(space_id, [])

    def _guard(self, space_id: str) -> asyncio.Lock:
        return self._guards.setdefault(space_id, asyncio.Lock())

    async def _open_room(self, room: Room) -> None:
        async def on_event(msg: Msg) -> None:
            frame = msg.data.decode()
            seq = event_seq(msg)
            for connection in list(room.connections):
                connection.deliver(seq, frame)

        async def on_beacon(msg: Msg) -> None:
            try:
                beacon = decode(_BEACON, msg.data)
            except Exception:  # noqa: BLE001 - a bad beacon from another process must not stop presence
                log.warning("ignored a malformed presence beacon on %s", msg.subject)
                return
            # A gateway new to the space hears of us only at our next periodic beacon: answer it now.
            answer = self.board.is_news(beacon)
            if self.board.absorb(beacon):
                self._presence_soon(room.space_id, announce=False)
            if answer and room.connections:
                await self._announce(room.space_id, self._local(room.space_id))

        async def on_membership(msg: Msg) -> None:
            try:
                change = decode(_MEMBERSHIP, msg.data)
            except Exception:  # noqa: BLE001 - a bad notice from another process must not stop the room
                log.warning("ignored a malformed membership change on %s", msg.subject)
                return
            if change.user_id is not None and not any(c.who.user_id == change.user_id for c in room.connections):
                return  # none of theirs here: nothing to close or tell, no database read
            apply_membership(room, await self._as_it_is_now(change))

        # First, so that it is in place (the consumer's creation below is a round trip
        # after it) before the socket's post-join role check reads the database.
        membership = await self.bus.nats.subscribe(MEMBERSHIP.fill(space_id=room.space_id), cb=on_membership)
        events = await self.bus.js.subscribe(
            SPACE_EVENTS.fill(space_id=room.space_id),
            cb=on_event,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )

        async def on_transient(msg: Msg) -> None:
            # Job progress and chat deltas have no seq: they are not events, a lost one is
            # made good by the next (or by the final event), so a syncing socket just misses it.
            frame = msg.data.decode()
            for connection in list(room.connections):
                if connection.synced:
                    connection.send(frame)

        presence = await self.bus.nats.subscribe(PRESENCE.fill(space_id=room.space_id), cb=on_beacon)
        progress = await self.bus.nats.subscribe(GENERATION_PROGRESS.fill(space_id=room.space_id), cb=on_transient)
        deltas = await self.bus.nats.subscribe(CHAT_DELTAS.fill(space_id=room.space_id), cb=on_transient)
        room.subscriptions = [membership, events, presence, progress, deltas]

    async def _as_it_is_now(self, change: MembershipChanged) -> MembershipChanged:
        """The change with the member's role read now: a late notice must not undo a later change."""
        if change.user_id is None:
            return change  # a deleted space does not come back
        try:
            async with asyncio.timeout(_ROLE_READ_SECONDS):
                role = await self.role_of(change.space_id, change.user_id)
        except Exception:  # noqa: BLE001 - the database unreachable or slow: the notice is all there is to go on
            log.warning(
                "could not read the role of %s in %s; applying the notice as sent", change.user_id, change.space_id
            )
            return change
        return change.model_copy(update={"role": role})

    async def _close_room(self, room: Room) -> None:
        if room.presence_due is not None:
            room.presence_due.cancel()
        for subscription in room.subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        room.subscriptions = []

    # -- presence ----------------------------------------------------------------------

    def _local(self, space_id: str) -> list:
        room = self.rooms.get(space_id)
        if room is None:
            return []
        return local_entries((c.who.user_id, c.who.name, c.viewing) for c in room.connections)

    async def presence_changed(self, space_id: str) -> None:
        self._presence_soon(space_id, announce=True)

    def _presence_soon(self, space_id: str, *, announce: bool) -> None:
        room = self.rooms.get(space_id)
        if room is None:
            return
        room.announce_due = room.announce_due or announce
        if room.presence_due is None:
            room.presence_due = asyncio.create_task(self._send_presence(room))

    async def _send_presence(self, room: Room) -> None:
        await asyncio.sleep(presence_window(len(room.connections)))
        room.presence_due = None
        if room.announce_due:
            room.announce_due = False
            await self._announce(room.space_id, self._local(room.space_id))
        self._broadcast_presence(room.space_id)

    def presence_of(self, space_id: str) -> list:
        return self.board.merged(space_id, self._local(space_id))

    def _broadcast_presence(self, space_id: str) -> None:
        room = self.rooms.get(space_id)
        if room is None:
            return
        frame = PresenceChanged(presence=self.presence_of(space_id)).to_json().decode()
        for connection in list(room.connections):
            connection.send(frame)

    async def _announce(self, space_id: str, entries: list) -> None:
        with contextlib.suppress(Exception):
            await self.bus.publish(self.board.beacon(space_id, entries))

    async def _beacon_loop(self) -> None:
        period = self.board.ttl_ms / 3000
        while True:
            await asyncio.sleep(period)
            try:
                for space_id in list(self.rooms):
                    await self._announce(space_id, self._local(space_id))
                for space_id in self.board.expire():
                    self._broadcast_presence(space_id)
            except Exception:
                # Presence must outlive any one failure, or every space's "who is here" freezes.
                log.exception("presence beacons failed; trying again next period")


def apply_membership(room: Room, change: MembershipChanged) -> None:
    """A membership change, applied to this gateway's sockets of the space.

    Closing stops a socket's frames at once (nothing sent after `close` goes out), so a
    removed member receives no event published after the change reached this gateway; the
    socket then leaves the room as any closed one does.
    """
    if change.user_id is None:
        for connection in list(room.connections):
            connection.close(CLOSE_SPACE_DELETED, SPACE_DELETED)
        return
    mine = [connection for connection in room.connections if connection.who.user_id == change.user_id]
    if change.role is None:
        for connection in mine:
            connection.close(CLOSE_NOT_A_MEMBER, NOT_A_MEMBER)
        return
    frame = MemberRole(role=change.role).to_json().decode()
    for connection in mine:
        # Sent even when the connection already holds this role (a read for a request may have set
        # it): the page learns its role from this frame alone, and telling the true role twice is harmless.
        connection.role = change.role
        connection.send(frame)
