"""Commands and queries for one space, sent to the space-state replica that owns it.

Every command carries the acting user (id and role, stamped by the gateway after its
membership check) and a request id: a command retried with the same request id
returns the first result and changes nothing. All travel on `fx.state.<replica>.cmd`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from makefx_contracts.base import Message, Model, Request, Subject
from makefx_contracts.events import SpaceEvent
from makefx_contracts.identity import Role
from makefx_contracts.rows import (
    ApprovalRow,
    ApprovalStatus,
    AssetRow,
    ChatMessageRow,
    ChatMode,
    LineageRow,
    MediaKind,
    VariantRow,
)
from makefx_contracts.subjects import STATE_COMMANDS

# The largest seq a client can hold exactly (JavaScript's safe integers); far beyond any space's life.
MAX_SEQ = 2**53 - 1


class Actor(Model):
    user_id: str
    role: Role


class Position(Model):
    x: float
    y: float


class Applied(Message):
    """A command's outcome: the events it committed (empty when it changed nothing)."""

    type: Literal["space:applied"] = "space:applied"
    space_id: str
    seq: int
    events: list[SpaceEvent] = Field(default_factory=list)
    duplicate: bool = False


class SpaceCommand(Request[Applied]):
    subject: ClassVar[Subject] = STATE_COMMANDS
    space_id: str
    request_id: str = Field(min_length=1, max_length=128)
    actor: Actor


# -- what each mutation says: shared by the socket's message and the space command --------


class CreateAssetFields(Model):
    name: str = Field(min_length=1, max_length=200)
    asset_type: str = Field(min_length=1, max_length=40)
    media_kind: MediaKind = MediaKind.IMAGE
    parent_asset_id: str | None = None
    position: Position | None = None


class AssetChanges(Model):
    """A partial update: only the fields present on the wire change (`parentAssetId: null` detaches)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    tags: list[Annotated[str, Field(min_length=1, max_length=60)]] | None = Field(default=None, max_length=50)
    type: str | None = Field(default=None, min_length=1, max_length=40)
    parent_asset_id: str | None = None
    position: Position | None = None

    @model_serializer(mode="wrap")
    def _only_fields_sent(self, serialize: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Keep "absent" and "null" apart across every hop: drop what the sender never set.
        fields = type(self).model_fields
        sent = {fields[name].alias or name for name in self.model_fields_set}
        return {key: value for key, value in serialize(self).items() if key in sent}

    @model_validator(mode="after")
    def _something_changes(self) -> AssetChanges:
        if not self.model_fields_set:
            raise ValueError("changes must name at least one field")
        for name in ("name", "type", "tags", "position"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class UpdateAssetFields(Model):
    asset_id: str
    changes: AssetChanges


class DeleteAssetFields(Model):
    asset_id: str


class SetActiveVariantFields(Model):
    asset_id: str
    variant_id: str


class ForkAssetFields(Model):
    source_variant_id: str
    name: str = Field(min_length=1, max_length=200)
    asset_type: str = Field(min_length=1, max_length=40)
    parent_asset_id: str | None = None


class StarVariantFields(Model):
    variant_id: str
    starred: bool


class DeleteVariantFields(Model):
    variant_id: str


class SeverLineageFields(Model):
    lineage_id: str


# -- generation (the flow and the job: `generation.py`) ----------------------------------

Prompt = Annotated[str, Field(min_length=1, max_length=10_000)]
GenerationOptions = dict[str, Any]
"""Model parameters (`width`, `height`, `durationSeconds`, `videoTier`, …), checked against the model's schema."""


class GenerateFields(Model):
    name: str = Field(min_length=1, max_length=200)
    asset_type: str = Field(min_length=1, max_length=40)
    media_kind: MediaKind = MediaKind.IMAGE
    prompt: Prompt
    model: str | None = Field(default=None, max_length=128, description="default: the media kind's default model")
    reference_variant_ids: list[str] = Field(default_factory=list, max_length=16)
    options: GenerationOptions = Field(default_factory=dict)
    parent_asset_id: str | None = None
    position: Position | None = None


class RefineFields(Model):
    source_variant_id: str
    prompt: Prompt
    model: str | None = Field(default=None, max_length=128, description="default: the source's model")
    reference_variant_ids: list[str] = Field(default_factory=list, max_length=16)
    options: GenerationOptions = Field(default_factory=dict)


class RetryVariantFields(Model):
    variant_id: str


class CancelVariantFields(Model):
    variant_id: str


# -- chat (the turn, the tools and the deltas: `chat.py`) ---------------------------------


class SendChatFields(Model):
    content: str = Field(min_length=1, max_length=20_000)
    mode: ChatMode = ChatMode.ADVISOR


class DecideApprovalFields(Model):
    approval_id: str = Field(min_length=1, max_length=128)


# -- the commands --------------------------------------------------------------------


class CreateAsset(CreateAssetFields, SpaceCommand):
    type: Literal["space:createAsset"] = "space:createAsset"


class UpdateAsset(UpdateAssetFields, SpaceCommand):
    type: Literal["space:updateAsset"] = "space:updateAsset"


class DeleteAsset(DeleteAssetFields, SpaceCommand):
    type: Literal["space:deleteAsset"] = "space:deleteAsset"


class SetActiveVariant(SetActiveVariantFields, SpaceCommand):
    type: Literal["space:setActiveVariant"] = "space:setActiveVariant"


class ForkAsset(ForkAssetFields, SpaceCommand):
    type: Literal["space:forkAsset"] = "space:forkAsset"


class StarVariant(StarVariantFields, SpaceCommand):
    type: Literal["space:starVariant"] = "space:starVariant"


class DeleteVariant(DeleteVariantFields, SpaceCommand):
    type: Literal["space:deleteVariant"] = "space:deleteVariant"


class SeverLineage(SeverLineageFields, SpaceCommand):
    type: Literal["space:severLineage"] = "space:severLineage"


class StartGeneration(GenerateFields, SpaceCommand):
    type: Literal["space:startGeneration"] = "space:startGeneration"


class RefineVariant(RefineFields, SpaceCommand):
    type: Literal["space:refineVariant"] = "space:refineVariant"


class RetryVariant(RetryVariantFields, SpaceCommand):
    type: Literal["space:retryVariant"] = "space:retryVariant"


class CancelVariant(CancelVariantFields, SpaceCommand):
    type: Literal["space:cancelVariant"] = "space:cancelVariant"


class CreateUploadFields(Model):
    """An upload's placeholder: a new asset (`name` + `asset_type`) or a new variant of `asset_id`."""

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=255)
    size_bytes: int = Field(ge=1)
    media_kind: MediaKind = MediaKind.IMAGE
    asset_id: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    asset_type: str = Field(default="upload", min_length=1, max_length=40)
    parent_asset_id: str | None = None
    position: Position | None = None


class CreateUpload(CreateUploadFields, SpaceCommand):
    """HTTP only: a placeholder variant (`uploading`, attempt 1) whose bytes the client PUTs to a signed URL.

    `CompleteVariant`/`FailVariant` with `attempt=1` then end it, exactly as for a generation.
    """

    type: Literal["space:createUpload"] = "space:createUpload"


class MarkVariantProcessing(SpaceCommand):
    """The owner's own follow-up once the job is in `GEN_JOBS`: pending → processing."""

    type: Literal["space:markVariantProcessing"] = "space:markVariantProcessing"
    variant_id: str
    attempt: int = Field(ge=1)


class MarkVariantUploading(SpaceCommand):
    """A worker has the bytes and is storing them: processing → uploading. Refused once cancelled."""

    type: Literal["space:markVariantUploading"] = "space:markVariantUploading"
    variant_id: str
    attempt: int = Field(ge=1)


class CompletedMedia(Model):
    """The stored artifact, as the media service's ingest reported it."""

    media_key: str
    image_key: str | None = None
    thumb_key: str | None = None
    poster_key: str | None = None
    mime_type: str
    size_bytes: int = Field(ge=0)
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None


class CompleteVariant(SpaceCommand):
    """A worker stored attempt `attempt`'s media: the variant becomes `completed`."""

    type: Literal["space:completeVariant"] = "space:completeVariant"
    variant_id: str
    attempt: int = Field(ge=1)
    media: CompletedMedia
    provenance: dict[str, Any] = Field(default_factory=dict)
    provider_metadata: dict[str, Any] = Field(default_factory=dict)


class FailVariant(SpaceCommand):
    type: Literal["space:failVariant"] = "space:failVariant"
    variant_id: str
    attempt: int = Field(ge=1)
    error_message: str = Field(min_length=1, max_length=2000, description="shown to the user as it is")


class SendChat(SendChatFields, SpaceCommand):
    """A person's message: stored and broadcast, then one `ChatTurn` on the `CHAT` work queue."""

    type: Literal["space:sendChat"] = "space:sendChat"


class ClearChat(SpaceCommand):
    type: Literal["space:clearChat"] = "space:clearChat"


class ToolCall(Model):
    """A tool call the bot proposes: `input` is checked against the tool's input model (`chat.TOOLS`)."""

    id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=64)
    input: dict[str, Any] = Field(default_factory=dict)


class PostChatReply(SpaceCommand):
    """The chat service's answer to the message `reply_to`: the bot's message, and in actor mode one
    `pending` approval per tool call. Its `request_id` is `message_id`, so a redelivered turn posts once."""

    type: Literal["space:postChatReply"] = "space:postChatReply"
    reply_to: str
    message_id: str = Field(min_length=1, max_length=128)
    content: str = Field(default="", max_length=100_000)
    tool_calls: list[ToolCall] = Field(default_factory=list, max_length=16)
    metadata: dict[str, Any] = Field(default_factory=dict, description="model, token usage, or the error shown")


class ApproveAction(DecideApprovalFields, SpaceCommand):
    """Run a pending approval's tool call as the approver's own command (with their permissions)."""

    type: Literal["space:approveAction"] = "space:approveAction"


class RejectAction(DecideApprovalFields, SpaceCommand):
    type: Literal["space:rejectAction"] = "space:rejectAction"


Mutation = Annotated[
    CreateAsset
    | UpdateAsset
    | DeleteAsset
    | SetActiveVariant
    | ForkAsset
    | StarVariant
    | DeleteVariant
    | SeverLineage
    | StartGeneration
    | RefineVariant
    | RetryVariant
    | CancelVariant
    | CreateUpload
    | MarkVariantProcessing
    | MarkVariantUploading
    | CompleteVariant
    | FailVariant
    | SendChat
    | ClearChat
    | PostChatReply
    | ApproveAction
    | RejectAction,
    Field(discriminator="type"),
]


# -- queries -------------------------------------------------------------------------


class SpaceSnapshot(Message):
    """A space's full state at `seq` (the REST `GET /api/spaces/{spaceId}/assets` body)."""

    type: Literal["space:snapshot"] = "space:snapshot"
    space_id: str
    seq: int
    assets: list[AssetRow]
    variants: list[VariantRow]
    lineage: list[LineageRow]


class SpaceStatePart(Message):
    """One part of a space's full state at `seq`.

    The parts' `body` strings, joined in order, are one JSON document
    `{"assets": [...], "variants": [...], "lineage": [...]}` read in one transaction: a large
    space (tens of megabytes) travels in parts that each stay well under NATS's 1 MB, and a
    small one in a single part.
    """

    type: Literal["space:statePart"] = "space:statePart"
    space_id: str
    seq: int
    snapshot_id: str
    part: int = Field(ge=0)
    parts: int = Field(ge=1)
    body: str


class GetSpaceState(Request[SpaceStatePart]):
    """Part 0 of a new read of the full state; with `snapshot_id`, another part of that same read."""

    type: Literal["space:getState"] = "space:getState"
    subject: ClassVar[Subject] = STATE_COMMANDS
    space_id: str
    snapshot_id: str | None = None
    part: int = Field(default=0, ge=0)


class EventsSince(Message):
    """The events after `since_seq`, or `complete=False` when the log no longer reaches back."""

    type: Literal["space:eventsSince"] = "space:eventsSince"
    space_id: str
    seq: int
    complete: bool
    events: list[SpaceEvent]


class GetEventsSince(Request[EventsSince]):
    type: Literal["space:getEventsSince"] = "space:getEventsSince"
    subject: ClassVar[Subject] = STATE_COMMANDS
    space_id: str
    since_seq: int = Field(ge=0, le=MAX_SEQ)
    limit: int = Field(default=1000, ge=1, le=10_000)


class AssetDetail(Message):
    type: Literal["space:assetDetail"] = "space:assetDetail"
    space_id: str
    seq: int
    asset: AssetRow
    variants: list[VariantRow]
    lineage: list[LineageRow]


class GetAsset(Request[AssetDetail]):
    type: Literal["space:getAsset"] = "space:getAsset"
    subject: ClassVar[Subject] = STATE_COMMANDS
    space_id: str
    asset_id: str


class VariantDetail(Message):
    type: Literal["space:variantDetail"] = "space:variantDetail"
    space_id: str
    variant: VariantRow


class GetVariant(Request[VariantDetail]):
    """One live variant (its asset not deleted): what the media routes serve and check."""

    type: Literal["space:getVariant"] = "space:getVariant"
    subject: ClassVar[Subject] = STATE_COMMANDS
    space_id: str
    variant_id: str


class ChatHistory(Message):
    """Messages of the conversation, oldest first."""

    type: Literal["space:chatHistory"] = "space:chatHistory"
    space_id: str
    messages: list[ChatMessageRow]


class GetChatHistory(Request[ChatHistory]):
    """The newest `limit` messages (created before `before`, when given)."""

    type: Literal["space:getChatHistory"] = "space:getChatHistory"
    subject: ClassVar[Subject] = STATE_COMMANDS
    space_id: str
    limit: int = Field(default=100, ge=1, le=500)
    before: int | None = Field(default=None, ge=0, description="created_at, milliseconds since the epoch")


class ApprovalList(Message):
    type: Literal["space:approvalList"] = "space:approvalList"
    space_id: str
    approvals: list[ApprovalRow]


class ListApprovals(Request[ApprovalList]):
    """Approvals in `status` (the pending ones by default; every one with `status=None`), oldest first."""

    type: Literal["space:listApprovals"] = "space:listApprovals"
    subject: ClassVar[Subject] = STATE_COMMANDS
    space_id: str
    status: ApprovalStatus | None = ApprovalStatus.PENDING


class ChatContext(Message):
    """What the bot knows when it answers `turn`: the space, bounded, and the conversation before the turn.

    `assets` are the live ones, most recently changed first; `variants` the active (else newest)
    variant of each; `lineage` the newest links between them; `messages` the newest before the
    turn, oldest first. The chat service trims further to its token budget.
    """

    type: Literal["space:chatContext"] = "space:chatContext"
    space_id: str
    seq: int
    turn: ChatMessageRow
    reply: ChatMessageRow | None = Field(
        default=None,
        description="the bot's reply to `turn` when already posted: a turn delivered again is not re-asked",
    )
    messages: list[ChatMessageRow]
    assets: list[AssetRow]
    variants: list[VariantRow]
    lineage: list[LineageRow]


class GetChatContext(Request[ChatContext]):
    type: Literal["space:getChatContext"] = "space:getChatContext"
    subject: ClassVar[Subject] = STATE_COMMANDS
    space_id: str
    message_id: str
    max_messages: int = Field(default=50, ge=0, le=500)
    max_assets: int = Field(default=200, ge=0, le=1000)


Query = Annotated[
    GetSpaceState | GetEventsSince | GetAsset | GetVariant | GetChatHistory | ListApprovals | GetChatContext,
    Field(discriminator="type"),
]

StateRequest = Annotated[
    CreateAsset
    | UpdateAsset
    | DeleteAsset
    | SetActiveVariant
    | ForkAsset
    | StarVariant
    | DeleteVariant
    | SeverLineage
    | StartGeneration
    | RefineVariant
    | RetryVariant
    | CancelVariant
    | CreateUpload
    | MarkVariantProcessing
    | MarkVariantUploading
    | CompleteVariant
    | FailVariant
    | SendChat
    | ClearChat
    | PostChatReply
    | ApproveAction
    | RejectAction
    | GetSpaceState
    | GetEventsSince
    | GetAsset
    | GetVariant
    | GetChatHistory
    | ListApprovals
    | GetChatContext,
    Field(discriminator="type"),
]
"""Everything a space-state replica answers on `fx.state.<replica>.cmd`."""
