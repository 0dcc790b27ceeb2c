"""A space's chat context as the owner sends it, built from rows (test data, no I/O)."""

from __future__ import annotations

import json

from makefx_contracts.rows import (
    AssetRow,
    ChatMessageRow,
    ChatMode,
    ChatRole,
    LineageRelation,
    LineageRow,
    MediaKind,
    VariantRow,
    VariantStatus,
)
from makefx_contracts.space import ChatContext

NOW = 1_770_000_000_000


def asset(asset_id: str, name: str, kind: MediaKind = MediaKind.IMAGE, asset_type: str = "character") -> AssetRow:
    return AssetRow(id=asset_id, name=name, type=asset_type, media_kind=kind, created_by="u-owner", created_at=NOW)


def variant(variant_id: str, asset_id: str, prompt: str, kind: MediaKind = MediaKind.IMAGE) -> VariantRow:
    recipe = json.dumps({"operation": "generate", "prompt": prompt, "model": "gemini-3.1-flash-image"})
    return VariantRow(
        id=variant_id,
        asset_id=asset_id,
        media_kind=kind,
        status=VariantStatus.COMPLETED,
        recipe=recipe,
        created_by="u-owner",
        created_at=NOW,
    )


def message(message_id: str, role: ChatRole, content: str, at: int = NOW, **fields: object) -> ChatMessageRow:
    return ChatMessageRow(id=message_id, role=role, content=content, created_at=at, **fields)


def context(
    question: str,
    *,
    mode: ChatMode = ChatMode.ADVISOR,
    history: list[ChatMessageRow] | None = None,
    assets: list[AssetRow] | None = None,
    variants: list[VariantRow] | None = None,
    lineage: list[LineageRow] | None = None,
) -> ChatContext:
    turn = message("m-turn", ChatRole.USER, question, at=NOW + 10_000, mode=mode, created_by="u-owner")
    return ChatContext(
        space_id="space-1",
        seq=42,
        turn=turn,
        messages=history or [],
        assets=assets if assets is not None else [],
        variants=variants or [],
        lineage=lineage or [],
    )


def fox_space(question: str, mode: ChatMode = ChatMode.ADVISOR) -> ChatContext:
    """Two images and a sound, a refinement between the images, and an earlier exchange."""
    return context(
        question,
        mode=mode,
        history=[
            message("m-1", ChatRole.USER, "Hi, what is in here?", at=NOW + 1),
            message("m-2", ChatRole.ASSISTANT, "A fox, a moon and some wind.", at=NOW + 2),
        ],
        assets=[
            asset("a-fox", "Fox"),
            asset("a-moon", "Moon", asset_type="scene"),
            asset("a-wind", "Wind", MediaKind.AUDIO, "sfx"),
        ],
        variants=[
            variant("v-fox", "a-fox", "a red fox in the snow"),
            variant("v-moon", "a-moon", "a pale moon"),
            variant("v-wind", "a-wind", "howling wind", MediaKind.AUDIO),
        ],
        lineage=[
            LineageRow(
                id="l-1",
                parent_variant_id="v-moon",
                child_variant_id="v-fox",
                relation_type=LineageRelation.DERIVED,
                created_at=NOW,
            )
        ],
    )
