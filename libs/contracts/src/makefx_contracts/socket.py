"""The WebSocket protocol (`/api/spaces/{spaceId}/ws`): the original product's messages, plus `seq` and `ack`.

Client messages are listed here; the server sends space events (`events.py`) as they
are, and the server-only messages below. Any client message may carry a `requestId`,
echoed in the reply that answers it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from makefx_contracts.base import Message
from makefx_contracts.identity import Role
from makefx_contracts.presence import PresenceEntry
from makefx_contracts.rows import ApprovalRow, AssetRow, ChatMessageRow, LineageRow, VariantRow
from makefx_contracts.space import (
    MAX_SEQ,
    CancelVariantFields,
    CreateAssetFields,
    DecideApprovalFields,
    DeleteAssetFields,
    DeleteVariantFields,
    ForkAssetFields,
    GenerateFields,
    RefineFields,
    RetryVariantFields,
    SendChatFields,
    SetActiveVariantFields,
    SeverLineageFields,
    StarVariantFields,
    UpdateAssetFields,
)


class ClientMessage(Message):
    request_id: str | None = Field(default=None, min_length=1, max_length=128)


# -- client -> server ---------------------------------------------------------------


class SyncRequest(ClientMessage):
    type: Literal["sync:request"] = "sync:request"
    since_seq: int | None = Field(default=None, ge=0, le=MAX_SEQ)


class AssetCreate(CreateAssetFields, ClientMessage):
    type: Literal["asset:create"] = "asset:create"


class AssetUpdate(UpdateAssetFields, ClientMessage):
    type: Literal["asset:update"] = "asset:update"


class AssetDelete(DeleteAssetFields, ClientMessage):
    type: Literal["asset:delete"] = "asset:delete"


class AssetSetActive(SetActiveVariantFields, ClientMessage):
    type: Literal["asset:setActive"] = "asset:setActive"


class AssetFork(ForkAssetFields, ClientMessage):
    type: Literal["asset:fork"] = "asset:fork"


class VariantStar(StarVariantFields, ClientMessage):
    type: Literal["variant:star"] = "variant:star"


class VariantDelete(DeleteVariantFields, ClientMessage):
    type: Literal["variant:delete"] = "variant:delete"


class LineageSever(SeverLineageFields, ClientMessage):
    type: Literal["lineage:sever"] = "lineage:sever"


class GenerateRequest(GenerateFields, ClientMessage):
    type: Literal["generate:request"] = "generate:request"


class RefineRequest(RefineFields, ClientMessage):
    type: Literal["refine:request"] = "refine:request"


class VariantRetry(RetryVariantFields, ClientMessage):
    type: Literal["variant:retry"] = "variant:retry"


class VariantCancel(CancelVariantFields, ClientMessage):
    type: Literal["variant:cancel"] = "variant:cancel"


class PresenceUpdate(ClientMessage):
    type: Literal["presence:update"] = "presence:update"
    viewing: str | None = None


class ChatSend(SendChatFields, ClientMessage):
    type: Literal["chat:send"] = "chat:send"


class ChatHistoryRequest(ClientMessage):
    type: Literal["chat:history"] = "chat:history"
    limit: int = Field(default=100, ge=1, le=500)
    before: int | None = Field(default=None, ge=0, description="only messages created before this time")


class ChatClear(ClientMessage):
    type: Literal["chat:clear"] = "chat:clear"


class ApprovalApprove(DecideApprovalFields, ClientMessage):
    type: Literal["approval:approve"] = "approval:approve"


class ApprovalReject(DecideApprovalFields, ClientMessage):
    type: Literal["approval:reject"] = "approval:reject"


class ApprovalListRequest(ClientMessage):
    type: Literal["approval:list"] = "approval:list"


ClientMessageAny = Annotated[
    SyncRequest
    | AssetCreate
    | AssetUpdate
    | AssetDelete
    | AssetSetActive
    | AssetFork
    | VariantStar
    | VariantDelete
    | LineageSever
    | GenerateRequest
    | RefineRequest
    | VariantRetry
    | VariantCancel
    | PresenceUpdate
    | ChatSend
    | ChatHistoryRequest
    | ChatClear
    | ApprovalApprove
    | ApprovalReject
    | ApprovalListRequest,
    Field(discriminator="type"),
]


# -- server -> client (besides the space events) ------------------------------------


class SyncState(Message):
    type: Literal["sync:state"] = "sync:state"
    seq: int
    assets: list[AssetRow]
    variants: list[VariantRow]
    lineage: list[LineageRow]
    presence: list[PresenceEntry]
    media_cdn_base_url: str | None = Field(
        default=None,
        description="when set, image previews (`image_key`, `thumb_key`) load from `<this>/<key>`; else from the API",
    )


class Ack(Message):
    type: Literal["ack"] = "ack"
    request_id: str | None
    seq: int


class PresenceChanged(Message):
    type: Literal["presence:update"] = "presence:update"
    presence: list[PresenceEntry]


class ChatHistoryReply(Message):
    """The answer to `chat:history`: messages oldest first."""

    type: Literal["chat:history"] = "chat:history"
    request_id: str | None
    messages: list[ChatMessageRow]


class ApprovalListReply(Message):
    """The answer to `approval:list`: the pending approvals, oldest first."""

    type: Literal["approval:list"] = "approval:list"
    request_id: str | None
    approvals: list[ApprovalRow]


class ChatError(Message):
    """A refused `chat:send` (the original's shape; other refusals are `error`)."""

    type: Literal["chat:error"] = "chat:error"
    request_id: str | None
    error: str
    code: str


class MemberRole(Message):
    """Your role in this space changed (sent only to that member's sockets); the page adapts its controls."""

    type: Literal["member:role"] = "member:role"
    role: Role
