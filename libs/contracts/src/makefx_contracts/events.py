"""Space events: every committed change, in order, with the space's `seq`.

The same models travel on `fx.space.<spaceId>.events` (JetStream `SPACE_EVENTS`) and,
unchanged, to every browser in the space. Each carries the full new state of the rows it
touches, so a replica restoring a space can replay them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from makefx_contracts.base import Message, Subject
from makefx_contracts.rows import ApprovalRow, AssetRow, ChatMessageRow, LineageRow, VariantRow, VariantStatus
from makefx_contracts.subjects import SPACE_EVENTS


class SpaceEventBase(Message):
    subject: ClassVar[Subject] = SPACE_EVENTS
    space_id: str
    seq: int = Field(ge=1)
    at: int = Field(description="commit time, milliseconds since the epoch")
    actor_id: str | None = None
    request_id: str | None = None


class AssetCreated(SpaceEventBase):
    type: Literal["asset:created"] = "asset:created"
    asset: AssetRow


class AssetUpdated(SpaceEventBase):
    type: Literal["asset:updated"] = "asset:updated"
    asset: AssetRow


class AssetDeleted(SpaceEventBase):
    type: Literal["asset:deleted"] = "asset:deleted"
    asset_id: str


class AssetForked(SpaceEventBase):
    type: Literal["asset:forked"] = "asset:forked"
    asset: AssetRow
    variant: VariantRow
    lineage: LineageRow


class VariantCreated(SpaceEventBase):
    type: Literal["variant:created"] = "variant:created"
    variant: VariantRow


class VariantUpdated(SpaceEventBase):
    type: Literal["variant:updated"] = "variant:updated"
    variant: VariantRow


class VariantDeleted(SpaceEventBase):
    type: Literal["variant:deleted"] = "variant:deleted"
    variant_id: str


class LineageCreated(SpaceEventBase):
    type: Literal["lineage:created"] = "lineage:created"
    lineage: LineageRow


class LineageSevered(SpaceEventBase):
    type: Literal["lineage:severed"] = "lineage:severed"
    lineage_id: str


class GenerateResult(SpaceEventBase):
    """A generation attempt ended (`completed` or `failed`): sent beside the variant's `variant:updated`.

    It changes no row (the `variant:updated` does); it tells the sockets which request finished.
    """

    type: Literal["generate:result"] = "generate:result"
    asset_id: str
    variant_id: str
    attempt: int = Field(ge=1)
    status: VariantStatus
    error_message: str | None = None


class ChatMessagePosted(SpaceEventBase):
    """A message joined the conversation: a person's, the bot's reply, or a tool call's outcome."""

    type: Literal["chat:message"] = "chat:message"
    message: ChatMessageRow


class ChatCleared(SpaceEventBase):
    """The conversation was emptied; approvals stay, for audit."""

    type: Literal["chat:cleared"] = "chat:cleared"


class ApprovalCreated(SpaceEventBase):
    type: Literal["approval:created"] = "approval:created"
    approval: ApprovalRow


class ApprovalUpdated(SpaceEventBase):
    type: Literal["approval:updated"] = "approval:updated"
    approval: ApprovalRow


SpaceEvent = Annotated[
    AssetCreated
    | AssetUpdated
    | AssetDeleted
    | AssetForked
    | VariantCreated
    | VariantUpdated
    | VariantDeleted
    | LineageCreated
    | LineageSevered
    | GenerateResult
    | ChatMessagePosted
    | ChatCleared
    | ApprovalCreated
    | ApprovalUpdated,
    Field(discriminator="type"),
]
"""Any space event, decoded by its `type`."""
