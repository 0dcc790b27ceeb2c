"""Uploads inside their transaction: a placeholder variant `uploading` at attempt 1, ended like a generation.

The client PUTs the bytes to a signed staging URL; the gateway then has the media service
ingest them and sends `CompleteVariant`/`FailVariant` with `attempt=1`, the same commands
a generation worker sends. A failed upload cannot be retried (there is no job to run
again): the user uploads anew. An upload never finished is failed by `expired_uploads`'
caller, the owner's periodic
`sweep`, which also has the media service delete the staged bytes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from makefx_bus import Bus
from makefx_contracts.errors import FxError, ValidationFailed
from makefx_contracts.events import AssetCreated, VariantCreated
from makefx_contracts.generation import job_id
from makefx_contracts.media import DeleteVariantMedia
from makefx_contracts.rows import VariantRow, VariantStatus
from makefx_contracts.space import CreateUpload
from makefx_space_state import domain
from makefx_space_state.ports import SpaceTx

if TYPE_CHECKING:
    from makefx_space_state.service import SpaceService

log = logging.getLogger(__name__)

NEVER_FINISHED = "The upload was never finished."
OPERATION = "upload"

NewId = Callable[[], str]


def is_upload(variant: VariantRow) -> bool:
    try:
        recipe = json.loads(variant.recipe)
    except ValueError:
        return False
    return isinstance(recipe, dict) and recipe.get("operation") == OPERATION


def create_upload(tx: SpaceTx, command: CreateUpload, out: Any, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "uploading")
    if command.asset_id is not None:
        asset = domain.live_asset(tx.asset(command.asset_id), command.asset_id)
        if asset.media_kind is not command.media_kind:
            raise ValidationFailed(
                f"asset {asset.id} holds {asset.media_kind.value}, not {command.media_kind.value}",
                details={"assetId": asset.id, "mediaKind": command.media_kind.value},
            )
    else:
        if command.parent_asset_id is not None:
            domain.check_parent(None, tx.asset(command.parent_asset_id), command.parent_asset_id, ())
        asset = domain.new_asset(
            asset_id=ids(),
            name=command.name or command.filename,
            asset_type=command.asset_type,
            media_kind=command.media_kind,
            parent_asset_id=command.parent_asset_id,
            position=command.position,
            actor=command.actor,
            now=now,
        )
        tx.put_asset(asset)
        out.emit(AssetCreated, asset=asset)
    variant_id = ids()
    recipe = json.dumps(
        {
            "operation": OPERATION,
            "filename": command.filename,
            "contentType": command.content_type,
            "sizeBytes": command.size_bytes,
            "mediaKind": command.media_kind.value,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    variant = VariantRow(
        id=variant_id,
        asset_id=asset.id,
        media_kind=asset.media_kind,
        workflow_id=job_id(variant_id, 1),
        status=VariantStatus.UPLOADING,
        recipe=recipe,
        created_by=command.actor.user_id,
        created_at=now,
        updated_at=now,
    )
    tx.put_variant(variant)
    out.emit(VariantCreated, variant=variant)


def expired_uploads(variants: Iterable[VariantRow], created_before: int) -> list[VariantRow]:
    """The uploads still `uploading` that were created before `created_before` (ms)."""
    return [
        variant
        for variant in variants
        if variant.status is VariantStatus.UPLOADING and variant.created_at < created_before and is_upload(variant)
    ]


async def sweep(service: SpaceService, bus: Bus, max_age_ms: int) -> int:
    """Fail the abandoned uploads, then have the media service delete their staged bytes; how many."""
    expired = await service.expire_uploads(max_age_ms)
    for space_id, variant_id in expired:
        try:
            await bus.request(DeleteVariantMedia(space_id=space_id, variant_id=variant_id))
        except FxError as error:  # the variant is failed anyway; its bytes wait for the next delete
            log.warning("space %s: the staged bytes of upload %s were not deleted: %s", space_id, variant_id, error)
    return len(expired)


COMMANDS: dict[type, Callable[..., None]] = {CreateUpload: create_upload}
