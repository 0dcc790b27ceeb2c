"""Rows of the space database as they travel: the seed's snake_case columns, values as stored.

JSON columns (`recipe`, `generation_provenance`, `provider_metadata`, `tags`) travel as
the JSON text the database holds, and flags as 0/1, exactly as the original product's
clients expect them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from makefx_contracts.base import Row


class MediaKind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


class VariantStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    UPLOADING = "uploading"
    COMPLETED = "completed"
    FAILED = "failed"


class ChatMode(StrEnum):
    """`advisor` answers; `actor` may also propose tool calls that a person approves."""

    ADVISOR = "advisor"
    ACTOR = "actor"


class ChatRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"
    FAILED = "failed"


class LineageRelation(StrEnum):
    DERIVED = "derived"
    REFINED = "refined"
    FORKED = "forked"


AssetType = str
"""character, scene, item, sfx, music, speech, … (free text; audio routing reads sfx and music)."""


class AssetRow(Row):
    id: str
    name: str
    type: AssetType
    media_kind: MediaKind = MediaKind.IMAGE
    parent_asset_id: str | None = None
    active_variant_id: str | None = None
    position_x: float = 0.0
    position_y: float = 0.0
    tags: str = "[]"
    created_by: str
    created_at: int
    updated_at: int | None = None
    deleted_at: int | None = None


class VariantRow(Row):
    id: str
    asset_id: str
    media_kind: MediaKind = MediaKind.IMAGE
    workflow_id: str | None = None
    status: VariantStatus = VariantStatus.PENDING
    error_message: str | None = None
    image_key: str | None = None
    thumb_key: str | None = None
    media_key: str | None = None
    media_mime_type: str | None = None
    media_size_bytes: int | None = None
    media_width: int | None = None
    media_height: int | None = None
    media_duration_ms: int | None = None
    generation_provenance: str | None = None
    provider_metadata: str | None = None
    recipe: str
    starred: Literal[0, 1] = 0
    created_by: str
    created_at: int
    updated_at: int | None = None
    poster_key: str | None = None


class LineageRow(Row):
    id: str
    parent_variant_id: str
    child_variant_id: str
    relation_type: LineageRelation
    severed: Literal[0, 1] = 0
    created_at: int


class ChatMessageRow(Row):
    """One message of the space's conversation; `tool_calls` and `metadata` are JSON text."""

    id: str
    role: ChatRole
    mode: ChatMode | None = None
    content: str = ""
    tool_calls: str | None = None
    tool_call_id: str | None = None
    metadata: str | None = None
    created_by: str | None = None
    created_at: int


class ApprovalRow(Row):
    """A tool call the bot proposed in actor mode, waiting for (or decided by) an editor.

    `tool_input` and `result` are JSON text. Once `approved` it runs as the decider's command
    and ends `executed` or `failed`; `rejected` ends it without running anything.
    """

    id: str
    message_id: str | None = None
    tool_call_id: str | None = None
    tool_name: str
    tool_input: str
    status: ApprovalStatus = ApprovalStatus.PENDING
    result: str | None = None
    error_message: str | None = None
    created_by: str
    created_at: int
    decided_by: str | None = None
    decided_at: int | None = None
    updated_at: int | None = None
