"""The rules of a space: who may change what, and what each change does to the rows. Pure Python, no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from makefx_contracts.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from makefx_contracts.rows import (
    AssetRow,
    LineageRelation,
    LineageRow,
    MediaKind,
    VariantRow,
    VariantStatus,
)
from makefx_contracts.space import Actor, AssetChanges, Position

_SPACE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def require_space_id(space_id: str) -> None:
    """A space id is one safe token: it names a file and a subject, so it can carry no `/`, `.` or `*`."""
    if not _SPACE_ID.fullmatch(space_id):
        raise ValidationFailed(f"{space_id!r} is not a valid space id", details={"spaceId": space_id})


# -- permissions ------------------------------------------------------------------------


def require_editor(actor: Actor, action: str) -> None:
    """Mutations need editor or owner (ARCHITECTURE §6)."""
    if not actor.role.can_edit:
        raise PermissionDenied(
            f"{action} needs the editor or owner role; you are {actor.role.value}",
            details={"role": actor.role.value, "needs": "editor"},
        )


def require_owner(actor: Actor, action: str) -> None:
    """Deleting an asset or a variant needs the owner."""
    if not actor.role.is_owner:
        raise PermissionDenied(
            f"{action} needs the owner role; you are {actor.role.value}",
            details={"role": actor.role.value, "needs": "owner"},
        )


# -- look-ups ---------------------------------------------------------------------------


def live_asset(asset: AssetRow | None, asset_id: str) -> AssetRow:
    """The asset, or NotFound when it never existed or was deleted."""
    if asset is None or asset.deleted_at is not None:
        raise NotFound(f"asset {asset_id} does not exist in this space", details={"assetId": asset_id})
    return asset


def live_variant(variant: VariantRow | None, asset: AssetRow | None, variant_id: str) -> VariantRow:
    """The variant, or NotFound when it does not exist or its asset was deleted."""
    if variant is None or asset is None or asset.deleted_at is not None:
        raise NotFound(f"variant {variant_id} does not exist in this space", details={"variantId": variant_id})
    return variant


def existing_lineage(lineage: LineageRow | None, lineage_id: str) -> LineageRow:
    if lineage is None:
        raise NotFound(f"lineage {lineage_id} does not exist in this space", details={"lineageId": lineage_id})
    return lineage


# -- rules ------------------------------------------------------------------------------


def check_parent(
    asset_id: str | None, parent: AssetRow | None, parent_id: str, parent_ancestors: Iterable[str]
) -> None:
    """A parent must be a live asset of the space, and not the asset itself or one of its descendants.

    `parent_ancestors` are the ids on the parent's chain upwards; if the asset is among
    them, the parent descends from it and the link would close a cycle.
    """
    if parent is None or parent.deleted_at is not None:
        raise NotFound(f"parent asset {parent_id} does not exist in this space", details={"parentAssetId": parent_id})
    if asset_id is None:
        return
    if parent_id == asset_id:
        raise ValidationFailed("an asset cannot be its own parent", details={"assetId": asset_id})
    if asset_id in set(parent_ancestors):
        raise ValidationFailed(
            f"asset {parent_id} descends from {asset_id}; making it the parent would create a cycle",
            details={"assetId": asset_id, "parentAssetId": parent_id},
        )


def require_completed(variant: VariantRow, action: str) -> None:
    if variant.status is not VariantStatus.COMPLETED:
        raise InvalidState(
            f"{action} needs a completed variant; variant {variant.id} is {variant.status.value}",
            details={"variantId": variant.id, "status": variant.status.value},
        )


def require_variant_of(asset: AssetRow, variant: VariantRow) -> None:
    if variant.asset_id != asset.id:
        raise ValidationFailed(
            f"variant {variant.id} belongs to asset {variant.asset_id}, not to {asset.id}",
            details={"assetId": asset.id, "variantId": variant.id},
        )


def require_not_severed(lineage: LineageRow) -> None:
    if lineage.severed:
        raise InvalidState(f"lineage {lineage.id} is already severed", details={"lineageId": lineage.id})


# -- new rows ---------------------------------------------------------------------------


def new_asset(
    *,
    asset_id: str,
    name: str,
    asset_type: str,
    media_kind: MediaKind,
    parent_asset_id: str | None,
    position: Position | None,
    actor: Actor,
    now: int,
    active_variant_id: str | None = None,
) -> AssetRow:
    return AssetRow(
        id=asset_id,
        name=name,
        type=asset_type,
        media_kind=media_kind,
        parent_asset_id=parent_asset_id,
        active_variant_id=active_variant_id,
        position_x=position.x if position else 0.0,
        position_y=position.y if position else 0.0,
        tags="[]",
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )


def changed_asset(asset: AssetRow, changes: AssetChanges, now: int) -> AssetRow:
    """The asset with exactly the fields the sender set changed (absent stays, `parentAssetId: null` detaches)."""
    sent = changes.model_fields_set
    update: dict[str, object] = {"updated_at": now}
    if "name" in sent:
        update["name"] = changes.name
    if "type" in sent:
        update["type"] = changes.type
    if "tags" in sent:
        update["tags"] = json.dumps(changes.tags, ensure_ascii=False, separators=(",", ":"))
    if "parent_asset_id" in sent:
        update["parent_asset_id"] = changes.parent_asset_id
    if "position" in sent and changes.position is not None:
        update["position_x"] = changes.position.x
        update["position_y"] = changes.position.y
    return asset.model_copy(update=update)


def deleted_asset(asset: AssetRow, now: int) -> AssetRow:
    return asset.model_copy(update={"deleted_at": now, "updated_at": now})


def detached_child(child: AssetRow, now: int) -> AssetRow:
    """A child of a deleted asset moves to the top level rather than pointing at a hidden parent."""
    return child.model_copy(update={"parent_asset_id": None, "updated_at": now})


def forked_variant(source: VariantRow, *, variant_id: str, asset_id: str, actor: Actor, now: int) -> VariantRow:
    """A copy of a completed variant in a new asset: same media keys and recipe, fresh identity."""
    return source.model_copy(
        update={
            "id": variant_id,
            "asset_id": asset_id,
            "workflow_id": None,  # UNIQUE: the generation run belongs to the source
            "starred": 0,
            "created_by": actor.user_id,
            "created_at": now,
            "updated_at": None,
        }
    )


def new_lineage(
    *, lineage_id: str, parent_variant_id: str, child_variant_id: str, relation: LineageRelation, now: int
) -> LineageRow:
    return LineageRow(
        id=lineage_id,
        parent_variant_id=parent_variant_id,
        child_variant_id=child_variant_id,
        relation_type=relation,
        severed=0,
        created_at=now,
    )


def starred_variant(variant: VariantRow, starred: bool, now: int) -> VariantRow | None:
    """The variant with its star set, or None when it already was (nothing to commit)."""
    flag = 1 if starred else 0
    if variant.starred == flag:
        return None
    return variant.model_copy(update={"starred": flag, "updated_at": now})


def next_active_variant(remaining: Iterable[VariantRow]) -> VariantRow | None:
    """After the active variant is deleted: the newest completed one left, or none."""
    completed = [variant for variant in remaining if variant.status is VariantStatus.COMPLETED]
    if not completed:
        return None
    return max(completed, key=lambda variant: (variant.created_at, variant.id))


def with_active_variant(asset: AssetRow, variant_id: str | None, now: int) -> AssetRow:
    return asset.model_copy(update={"active_variant_id": variant_id, "updated_at": now})


def severed(lineage: LineageRow) -> LineageRow:
    return lineage.model_copy(update={"severed": 1})
