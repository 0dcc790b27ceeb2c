"""The socket protocol of one connection: decode a client frame, act on it, answer it.

Mutations (chat messages and approval decisions among them) become space commands for
the owning space-state replica, stamped with the acting user and their current role;
`ack {requestId, seq}` answers success and an `error` frame with the request id answers
anything else — except a refused `chat:send`, answered `chat:error` as the original
product did. Reads of the conversation and of the approvals are queries to the owner,
answered by a reply of the same type. A malformed frame gets an `error` and the socket
stays open. A caller found to be no longer a member (by a sync, a read or a change) gets
`NOT_FOUND` and the socket closes with 4403, as when the removal's notice reaches it.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError

from makefx_bus.codec import validation_details
from makefx_contracts import FxError
from makefx_contracts.errors import InternalError, InvalidMessage, NotFound, PermissionDenied, UnknownMessageType
from makefx_contracts.events import VariantCreated
from makefx_contracts.generation import GenerateStarted, RefineStarted
from makefx_contracts.identity import Role
from makefx_contracts.socket import (
    Ack,
    ApprovalApprove,
    ApprovalListReply,
    ApprovalListRequest,
    ApprovalReject,
    AssetCreate,
    AssetDelete,
    AssetFork,
    AssetSetActive,
    AssetUpdate,
    ChatClear,
    ChatError,
    ChatHistoryReply,
    ChatHistoryRequest,
    ChatSend,
    ClientMessage,
    ClientMessageAny,
    GenerateRequest,
    LineageSever,
    PresenceUpdate,
    RefineRequest,
    SyncRequest,
    SyncState,
    VariantCancel,
    VariantDelete,
    VariantRetry,
    VariantStar,
)
from makefx_contracts.space import (
    Actor,
    Applied,
    ApproveAction,
    CancelVariant,
    ClearChat,
    CreateAsset,
    DeleteAsset,
    DeleteVariant,
    ForkAsset,
    GetChatHistory,
    GetEventsSince,
    ListApprovals,
    RefineVariant,
    RejectAction,
    RetryVariant,
    SendChat,
    SetActiveVariant,
    SeverLineage,
    SpaceCommand,
    StartGeneration,
    StarVariant,
    UpdateAsset,
)
from makefx_gateway.realtime.connection import CLOSE_NOT_A_MEMBER, NOT_A_MEMBER, Connection
from makefx_gateway.realtime.hub import SpaceHub
from makefx_gateway.realtime.state import read_state, with_fields
from makefx_gateway.service import Spaces
from makefx_router import SpaceRouter
from makefx_telemetry import trace_scope

log = logging.getLogger(__name__)

_CLIENT: TypeAdapter[Any] = TypeAdapter(ClientMessageAny)
_KNOWN_TYPES = frozenset(cls.type_name() for cls in get_args(get_args(ClientMessageAny)[0]))

# Each socket mutation and the space command it becomes; their fields share names.
_COMMANDS: dict[type[ClientMessage], type[SpaceCommand]] = {
    AssetCreate: CreateAsset,
    AssetUpdate: UpdateAsset,
    AssetDelete: DeleteAsset,
    AssetSetActive: SetActiveVariant,
    AssetFork: ForkAsset,
    VariantStar: StarVariant,
    VariantDelete: DeleteVariant,
    LineageSever: SeverLineage,
    GenerateRequest: StartGeneration,
    RefineRequest: RefineVariant,
    VariantRetry: RetryVariant,
    VariantCancel: CancelVariant,
    ChatSend: SendChat,
    ChatClear: ClearChat,
    ApprovalApprove: ApproveAction,
    ApprovalReject: RejectAction,
}

_CHAT_SEND = ChatSend.type_name()

# Resume from the event log when at most this many events were missed; beyond, a full sync is cheaper.
RESUME_LIMIT = 1000


class SocketSession:
    def __init__(
        self,
        connection: Connection,
        hub: SpaceHub,
        router: SpaceRouter,
        spaces: Spaces,
        *,
        media_cdn_base_url: str | None = None,
    ) -> None:
        self.connection = connection
        self.hub = hub
        self.router = router
        self.spaces = spaces
        # Named in every `sync:state` when set: where browsers load image previews from.
        self.media_cdn_base_url = media_cdn_base_url

    async def handle(self, frame: str | bytes) -> None:
        # Each socket message is its own piece of work, traced under the connection's user.
        with trace_scope(actor=self.connection.who.user_id):
            await self._handle(frame)

    async def _handle(self, frame: str | bytes) -> None:
        request_id: str | None = None
        chat = False
        try:
            body = _parse(frame)
            request_id = body.get("requestId") if isinstance(body.get("requestId"), str) else None
            # The chat panel waits for `chat:error`: every failure of a `chat:send` answers so, even an invalid one.
            chat = body.get("type") == _CHAT_SEND
            await self._dispatch(_validate(body))
        except _NoLongerMember as error:
            self._send_error(error, request_id, chat=chat)
            self.connection.close(CLOSE_NOT_A_MEMBER, NOT_A_MEMBER)
        except FxError as error:
            self._send_error(error, request_id, chat=chat)
        except Exception:
            log.exception("socket message failed in space %s", self.connection.space_id)
            self._send_error(InternalError("the gateway failed to handle that message"), request_id, chat=chat)

    async def _dispatch(self, message: ClientMessage) -> None:
        if isinstance(message, SyncRequest):
            await self._current_role()  # a resume reads the space like any other read
            await self.sync(message.since_seq)
        elif isinstance(message, PresenceUpdate):
            self.connection.viewing = message.viewing
            await self.hub.presence_changed(self.connection.space_id)
            if message.request_id:
                self._send(Ack(request_id=message.request_id, seq=self.connection.last_seq))
        elif isinstance(message, ChatHistoryRequest):
            await self._chat_history(message)
        elif isinstance(message, ApprovalListRequest):
            await self._approvals(message)
        else:
            await self._mutate(message)

    async def _current_role(self) -> Role:
        """The user's role now: read afresh for every change or read, so a demotion or removal takes effect at once."""
        connection = self.connection
        role = await self.spaces.role_of(connection.space_id, connection.who.user_id)
        if role is None:
            raise _NoLongerMember(NOT_A_MEMBER)
        connection.role = role
        return role

    async def _chat_history(self, message: ChatHistoryRequest) -> None:
        await self._current_role()  # any member may read the conversation
        space_id = self.connection.space_id
        history = await self.router.request(
            space_id, GetChatHistory(space_id=space_id, limit=message.limit, before=message.before)
        )
        self._send(ChatHistoryReply(request_id=message.request_id, messages=history.messages))

    async def _approvals(self, message: ApprovalListRequest) -> None:
        await self._current_role()  # any member may see what waits for approval; deciding needs an editor
        space_id = self.connection.space_id
        pending = await self.router.request(space_id, ListApprovals(space_id=space_id))
        self._send(ApprovalListReply(request_id=message.request_id, approvals=pending.approvals))

    async def _mutate(self, message: ClientMessage) -> None:
        connection = self.connection
        role = await self._current_role()
        if not role.can_edit:
            raise PermissionDenied("viewers can look but not change this space", details={"role": role.value})
        fields = {name: value for name, value in message if name not in ("type", "request_id")}
        command = _COMMANDS[type(message)](
            **fields,
            space_id=connection.space_id,
            request_id=message.request_id or uuid.uuid4().hex,
            actor=Actor(user_id=connection.who.user_id, role=role),
        )
        applied = await self.router.request(connection.space_id, command)
        self._send(Ack(request_id=message.request_id, seq=applied.seq))
        if isinstance(message, GenerateRequest | RefineRequest):
            self._send_started(message, applied)

    def _send_started(self, message: GenerateRequest | RefineRequest, applied: Applied) -> None:
        """`generate:started` / `refine:started`: the placeholder the request made (its events are broadcast)."""
        created = next((event.variant for event in applied.events if isinstance(event, VariantCreated)), None)
        if created is None:  # a duplicate whose first reply is all there is
            return
        answer = GenerateStarted if isinstance(message, GenerateRequest) else RefineStarted
        self._send(
            answer(request_id=message.request_id, seq=applied.seq, asset_id=created.asset_id, variant_id=created.id)
        )

    async def sync(self, since_seq: int | None) -> None:
        """Bring the client up to date: the missed events when the log has them, else the full state."""
        connection = self.connection
        space_id = connection.space_id
        connection.begin_sync()
        try:
            if since_seq is not None:
                # The catch-up goes into the outbox at once: ask for no more than it holds with room to spare.
                limit = max(1, min(RESUME_LIMIT, connection.outbox_limit // 2))
                missed = await self.router.request(
                    space_id, GetEventsSince(space_id=space_id, since_seq=since_seq, limit=limit)
                )
                if missed.complete and (not missed.events or missed.events[-1].seq == missed.seq):
                    connection.last_seq = since_seq
                    for event in missed.events:
                        connection.replay(event.seq, event.to_json().decode())
                    connection.finish_sync(max(since_seq, missed.seq))
                    return
            seq, body = await read_state(self.router, space_id)
            presence = [entry.model_dump(mode="json") for entry in self.hub.presence_of(space_id)]
            # sync:state (see makefx_contracts.socket.SyncState), composed around the owner's JSON.
            fields: dict[str, object] = {"type": SyncState.type_name(), "seq": seq, "presence": presence}
            if self.media_cdn_base_url is not None:
                fields["mediaCdnBaseUrl"] = self.media_cdn_base_url
            connection.send(with_fields(body, **fields))
            connection.finish_sync(seq)
        except BaseException:
            # Never leave a socket holding events forever: release them at what it had.
            connection.finish_sync(connection.last_seq)
            raise

    def _send(self, message: Any) -> None:
        self.connection.send(message.to_json().decode())

    def _send_error(self, error: FxError, request_id: str | None, *, chat: bool = False) -> None:
        if chat:
            self._send(ChatError(request_id=request_id, error=error.message, code=error.code.value))
        else:
            self._send(error.to_reply(request_id))


class _NoLongerMember(NotFound):
    """The caller was removed from the space (or it was deleted): answered, then the socket closes."""


def _parse(frame: str | bytes) -> dict[str, Any]:
    try:
        body = json.loads(frame, parse_constant=_not_json)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8 and integers too long to parse; RecursionError, nesting too deep.
        raise InvalidMessage("a message must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidMessage("a message must be a JSON object")
    return body


def _not_json(constant: str) -> None:
    # Python's json accepts NaN and Infinity; JSON (and every browser) does not, and no field may hold them.
    raise InvalidMessage(f"{constant} is not a JSON value")


def _validate(body: dict[str, Any]) -> ClientMessage:
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in _KNOWN_TYPES:
        described = f"unknown message type {kind!r}" if isinstance(kind, str) else "a message needs a string `type`"
        raise UnknownMessageType(described, details={"known": sorted(_KNOWN_TYPES)})
    try:
        return _CLIENT.validate_python(body)
    except ValidationError as error:
        raise InvalidMessage(f"{kind} does not match the protocol", details=validation_details(error)) from None
