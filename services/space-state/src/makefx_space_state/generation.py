"""The generation commands inside their transaction: placeholder variants, their lineage and their lifecycle.

    pending → processing → uploading → completed
                  ↓            ↓
                failed → (retry) → pending

A variant's `workflow_id` is its current job, `<variantId>:<attempt>`: the job's
`Nats-Msg-Id`, and the attempt every worker report must name. A report for another
attempt, or for a variant no longer running (cancelled), is refused and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from makefx_contracts.errors import InvalidState, ValidationFailed
from makefx_contracts.events import (
    AssetCreated,
    AssetUpdated,
    GenerateResult,
    LineageCreated,
    VariantCreated,
    VariantUpdated,
)
from makefx_contracts.generation import GenerationJob, ModelInfo, default_model, find_model, job_id, parse_job_id
from makefx_contracts.rows import AssetRow, LineageRelation, MediaKind, VariantRow, VariantStatus
from makefx_contracts.space import (
    Actor,
    CancelVariant,
    CompleteVariant,
    FailVariant,
    MarkVariantProcessing,
    MarkVariantUploading,
    RefineVariant,
    RetryVariant,
    StartGeneration,
)
from makefx_space_state import chat, domain
from makefx_space_state.ports import SpaceTx

CANCELLED = "Cancelled before it finished."
_RUNNING = (VariantStatus.PENDING, VariantStatus.PROCESSING, VariantStatus.UPLOADING)

NewId = Callable[[], str]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def attempt_of(variant: VariantRow) -> int:
    parsed = parse_job_id(variant.workflow_id)
    return parsed[1] if parsed is not None and parsed[0] == variant.id else 0


_VALIDATORS: dict[str, tuple[dict[str, Any], Validator]] = {}
"""Each model's options validator, built (and its schema checked) once: `jsonschema.validate` does both on
every call, which measured ~14% of the service's CPU while draining generations."""


def _validator(model: ModelInfo) -> Validator:
    cached = _VALIDATORS.get(model.id)
    if cached is not None and cached[0] is model.parameters:
        return cached[1]
    cls = jsonschema.validators.validator_for(model.parameters)
    cls.check_schema(model.parameters)
    validator = cls(model.parameters)
    _VALIDATORS[model.id] = (model.parameters, validator)
    return validator


def resolve_model(media_kind: MediaKind, asset_type: str, model_id: str | None, options: dict[str, Any]) -> ModelInfo:
    """The registry's model for a request, with its options checked against the model's JSON Schema."""
    model = find_model(model_id) if model_id is not None else default_model(media_kind)
    if model is None:
        if model_id is None:
            raise ValidationFailed(
                f"{media_kind.value} generation needs an explicit model", details={"mediaKind": media_kind.value}
            )
        raise ValidationFailed(f"unknown model {model_id!r}", details={"model": model_id})
    if model.media_kind is not media_kind:
        raise ValidationFailed(
            f"model {model.id} makes {model.media_kind.value}, not {media_kind.value}",
            details={"model": model.id, "mediaKind": media_kind.value},
        )
    if model.asset_types is not None and asset_type not in model.asset_types:
        raise ValidationFailed(
            f"model {model.id} only makes {', '.join(model.asset_types)} assets",
            details={"model": model.id, "assetType": asset_type},
        )
    if model.provider == "veo" and options.get("generateAudio") is False:
        raise ValidationFailed(
            "Veo models always generate audio; generateAudio: false is not supported",
            details={"model": model.id, "generateAudio": False},
        )
    # The error `jsonschema.validate` would raise: the best match among them.
    error = best_match(_validator(model).iter_errors(options))
    if error is not None:
        path = "/".join(str(part) for part in error.absolute_path)
        raise ValidationFailed(f"options for {model.id}: {error.message}", details={"model": model.id, "path": path})
    return model


def _recipe(
    *,
    operation: str,
    model: ModelInfo,
    media_kind: MediaKind,
    asset_type: str,
    prompt: str,
    references: list[str],
    options: dict[str, Any],
    source_variant_id: str | None = None,
) -> str:
    """The full parameters of a generation, stored on the variant so a retry can run it again."""
    full = dict(options)
    if model.provider == "veo":
        # The exact video settings are part of the recipe (seed: Veo recipes persist them).
        for name, schema in model.parameters["properties"].items():
            if "default" in schema:
                full.setdefault(name, schema["default"])
    recipe: dict[str, Any] = {
        "operation": operation,
        "prompt": prompt,
        "model": model.id,
        "provider": model.provider,
        "mediaKind": media_kind.value,
        "assetType": asset_type,
        "referenceVariantIds": references,
        "options": full,
    }
    if source_variant_id is not None:
        recipe["sourceVariantId"] = source_variant_id
    return _json(recipe)


def _references(tx: SpaceTx, variant_ids: list[str]) -> list[VariantRow]:
    found: list[VariantRow] = []
    for variant_id in dict.fromkeys(variant_ids):
        variant = tx.variant(variant_id)
        asset = tx.asset(variant.asset_id) if variant is not None else None
        variant = domain.live_variant(variant, asset, variant_id)
        domain.require_completed(variant, "using a variant as a reference")
        found.append(variant)
    return found


def _placeholder(
    *, variant_id: str, asset_id: str, media_kind: MediaKind, recipe: str, actor: Actor, now: int
) -> VariantRow:
    return VariantRow(
        id=variant_id,
        asset_id=asset_id,
        media_kind=media_kind,
        workflow_id=job_id(variant_id, 1),
        status=VariantStatus.PENDING,
        recipe=recipe,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )


def _lineage(tx: SpaceTx, out: Any, ids: NewId, now: int, parent_id: str, child_id: str, relation: LineageRelation):
    lineage = domain.new_lineage(
        lineage_id=ids(), parent_variant_id=parent_id, child_variant_id=child_id, relation=relation, now=now
    )
    tx.insert_lineage(lineage)
    out.emit(LineageCreated, lineage=lineage)


def start_generation(tx: SpaceTx, command: StartGeneration, out: Any, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "generating an asset")
    if command.parent_asset_id is not None:
        domain.check_parent(None, tx.asset(command.parent_asset_id), command.parent_asset_id, ())
    model = resolve_model(command.media_kind, command.asset_type, command.model, command.options)
    references = _references(tx, command.reference_variant_ids)
    asset = domain.new_asset(
        asset_id=ids(),
        name=command.name,
        asset_type=command.asset_type,
        media_kind=command.media_kind,
        parent_asset_id=command.parent_asset_id,
        position=command.position,
        actor=command.actor,
        now=now,
    )
    recipe = _recipe(
        operation="generate",
        model=model,
        media_kind=command.media_kind,
        asset_type=command.asset_type,
        prompt=command.prompt,
        references=[reference.id for reference in references],
        options=command.options,
    )
    variant = _placeholder(
        variant_id=ids(), asset_id=asset.id, media_kind=asset.media_kind, recipe=recipe, actor=command.actor, now=now
    )
    tx.put_asset(asset)
    out.emit(AssetCreated, asset=asset)
    tx.put_variant(variant)
    out.emit(VariantCreated, variant=variant)
    for reference in references:
        _lineage(tx, out, ids, now, reference.id, variant.id, LineageRelation.DERIVED)


def refine_variant(tx: SpaceTx, command: RefineVariant, out: Any, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "refining a variant")
    source = tx.variant(command.source_variant_id)
    asset = tx.asset(source.asset_id) if source is not None else None
    source = domain.live_variant(source, asset, command.source_variant_id)
    assert asset is not None
    domain.require_completed(source, "refining")
    source_model = json.loads(source.recipe).get("model") if source.recipe.startswith("{") else None
    model_id = command.model or (source_model if find_model(source_model or "") else None)
    model = resolve_model(asset.media_kind, asset.type, model_id, command.options)
    references = [ref for ref in _references(tx, command.reference_variant_ids) if ref.id != source.id]
    recipe = _recipe(
        operation="refine",
        model=model,
        media_kind=asset.media_kind,
        asset_type=asset.type,
        prompt=command.prompt,
        references=[reference.id for reference in references],
        options=command.options,
        source_variant_id=source.id,
    )
    variant = _placeholder(
        variant_id=ids(), asset_id=asset.id, media_kind=asset.media_kind, recipe=recipe, actor=command.actor, now=now
    )
    tx.put_variant(variant)
    out.emit(VariantCreated, variant=variant)
    _lineage(tx, out, ids, now, source.id, variant.id, LineageRelation.REFINED)
    for reference in references:
        _lineage(tx, out, ids, now, reference.id, variant.id, LineageRelation.DERIVED)


def _variant(tx: SpaceTx, variant_id: str) -> tuple[VariantRow, AssetRow]:
    variant = tx.variant(variant_id)
    asset = tx.asset(variant.asset_id) if variant is not None else None
    variant = domain.live_variant(variant, asset, variant_id)
    assert asset is not None
    return variant, asset


def retry_variant(tx: SpaceTx, command: RetryVariant, out: Any, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "retrying a generation")
    variant, _ = _variant(tx, command.variant_id)
    if json.loads(variant.recipe).get("operation") == "upload" if variant.recipe.startswith("{") else False:
        raise InvalidState(
            f"variant {variant.id} is an upload: upload the file again instead of retrying",
            details={"variantId": variant.id},
        )
    if variant.status is not VariantStatus.FAILED:
        raise InvalidState(
            f"only a failed variant can be retried; variant {variant.id} is {variant.status.value}",
            details={"variantId": variant.id, "status": variant.status.value},
        )
    retried = variant.model_copy(
        update={
            "status": VariantStatus.PENDING,
            "error_message": None,
            "workflow_id": job_id(variant.id, attempt_of(variant) + 1),
            "updated_at": now,
        }
    )
    tx.put_variant(retried)
    out.emit(VariantUpdated, variant=retried)


def cancel_variant(tx: SpaceTx, command: CancelVariant, out: Any, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "cancelling a generation")
    variant, asset = _variant(tx, command.variant_id)
    if variant.status not in (VariantStatus.PENDING, VariantStatus.PROCESSING):
        raise InvalidState(
            f"only a pending or processing variant can be cancelled; variant {variant.id} is {variant.status.value}",
            details={"variantId": variant.id, "status": variant.status.value},
        )
    _end(tx, out, ids, variant, asset, now, VariantStatus.FAILED, {"error_message": CANCELLED})


def _current(tx: SpaceTx, variant_id: str, attempt: int) -> tuple[VariantRow, AssetRow]:
    variant, asset = _variant(tx, variant_id)
    if attempt_of(variant) != attempt:
        raise InvalidState(
            f"attempt {attempt} of variant {variant_id} is not its current one ({attempt_of(variant)})",
            details={"variantId": variant_id, "attempt": attempt, "current": attempt_of(variant)},
        )
    return variant, asset


def _require_running(variant: VariantRow) -> None:
    if variant.status not in _RUNNING:
        raise InvalidState(
            f"variant {variant.id} is {variant.status.value}, no longer being generated",
            details={"variantId": variant.id, "status": variant.status.value},
        )


def mark_processing(tx: SpaceTx, command: MarkVariantProcessing, out: Any, now: int, ids: NewId) -> None:
    variant = tx.variant(command.variant_id)
    if variant is None or attempt_of(variant) != command.attempt or variant.status is not VariantStatus.PENDING:
        return  # already further along, cancelled, deleted or retried: nothing to mark
    updated = variant.model_copy(update={"status": VariantStatus.PROCESSING, "updated_at": now})
    tx.put_variant(updated)
    out.emit(VariantUpdated, variant=updated)


def mark_uploading(tx: SpaceTx, command: MarkVariantUploading, out: Any, now: int, ids: NewId) -> None:
    variant, _ = _current(tx, command.variant_id, command.attempt)
    _require_running(variant)
    if variant.status is VariantStatus.UPLOADING:
        return
    updated = variant.model_copy(update={"status": VariantStatus.UPLOADING, "updated_at": now})
    tx.put_variant(updated)
    out.emit(VariantUpdated, variant=updated)


def complete_variant(tx: SpaceTx, command: CompleteVariant, out: Any, now: int, ids: NewId) -> None:
    variant, asset = _current(tx, command.variant_id, command.attempt)
    if variant.status is VariantStatus.COMPLETED:
        return
    _require_running(variant)
    media = command.media
    _end(
        tx,
        out,
        ids,
        variant,
        asset,
        now,
        VariantStatus.COMPLETED,
        {
            "error_message": None,
            "media_key": media.media_key,
            "image_key": media.image_key,
            "thumb_key": media.thumb_key,
            "poster_key": media.poster_key,
            "media_mime_type": media.mime_type,
            "media_size_bytes": media.size_bytes,
            "media_width": media.width,
            "media_height": media.height,
            "media_duration_ms": media.duration_ms,
            "generation_provenance": _json(command.provenance),
            "provider_metadata": _json(command.provider_metadata),
        },
    )


def fail_variant(tx: SpaceTx, command: FailVariant, out: Any, now: int, ids: NewId) -> None:
    variant, asset = _current(tx, command.variant_id, command.attempt)
    if variant.status in (VariantStatus.COMPLETED, VariantStatus.FAILED):
        return
    _end(tx, out, ids, variant, asset, now, VariantStatus.FAILED, {"error_message": command.error_message})


def _end(
    tx: SpaceTx,
    out: Any,
    ids: NewId,
    variant: VariantRow,
    asset: AssetRow,
    now: int,
    status: VariantStatus,
    update: dict[str, Any],
) -> None:
    ended = variant.model_copy(update={**update, "status": status, "updated_at": now})
    tx.put_variant(ended)
    out.emit(VariantUpdated, variant=ended)
    if status is VariantStatus.COMPLETED and asset.active_variant_id is None:
        # An asset's first finished variant becomes the one it shows.
        shown = domain.with_active_variant(asset, variant.id, now)
        tx.put_asset(shown)
        out.emit(AssetUpdated, asset=shown)
    out.emit(
        GenerateResult,
        asset_id=asset.id,
        variant_id=variant.id,
        attempt=attempt_of(variant),
        status=status,
        error_message=ended.error_message,
    )
    # A variant an approved tool call started: the conversation hears how it ended, in this transaction.
    chat.variant_ended(tx, out, ended, asset, now, ids)


def job_for(space_id: str, variant: VariantRow, actor: Actor) -> GenerationJob:
    """The job for a variant's current attempt, from its stored recipe."""
    recipe = json.loads(variant.recipe)
    return GenerationJob(
        space_id=space_id,
        asset_id=variant.asset_id,
        variant_id=variant.id,
        attempt=attempt_of(variant),
        media_kind=variant.media_kind,
        asset_type=recipe.get("assetType", ""),
        recipe=recipe,
        actor=actor,
    )


COMMANDS: dict[type, Callable[..., None]] = {
    StartGeneration: start_generation,
    RefineVariant: refine_variant,
    RetryVariant: retry_variant,
    CancelVariant: cancel_variant,
    MarkVariantProcessing: mark_processing,
    MarkVariantUploading: mark_uploading,
    CompleteVariant: complete_variant,
    FailVariant: fail_variant,
}

ENQUEUING = (StartGeneration, RefineVariant, RetryVariant)
"""Commands after which the owner publishes the variant's job."""
