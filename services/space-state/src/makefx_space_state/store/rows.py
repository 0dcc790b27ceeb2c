"""Row models from SQLite tuples, without re-validating what the database's own CHECKs already guarantee.

`model_construct` walks every field in Python (about 9 µs a variant row); a full state read
builds tens of thousands of rows, so this does what `model_construct` ends with — set the
instance's `__dict__` — and converts the enum columns, so serialization stays warning-free.
`tests/test_store_rows.py` checks the result equals a validated model for every row type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from makefx_contracts.rows import (
    ApprovalRow,
    ApprovalStatus,
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

M = TypeVar("M", bound=BaseModel)

ASSET_COLUMNS: tuple[str, ...] = tuple(AssetRow.model_fields)
VARIANT_COLUMNS: tuple[str, ...] = tuple(VariantRow.model_fields)
LINEAGE_COLUMNS: tuple[str, ...] = tuple(LineageRow.model_fields)
CHAT_MESSAGE_COLUMNS: tuple[str, ...] = tuple(ChatMessageRow.model_fields)
APPROVAL_COLUMNS: tuple[str, ...] = tuple(ApprovalRow.model_fields)

Enums = dict[str, dict[Any, Any]]

_ENUMS: Enums = {
    "media_kind": {kind.value: kind for kind in MediaKind},
    "status": {status.value: status for status in VariantStatus},
    "relation_type": {relation.value: relation for relation in LineageRelation},
}
_CHAT_ENUMS: Enums = {
    "role": {role.value: role for role in ChatRole},
    "mode": {None: None, **{mode.value: mode for mode in ChatMode}},  # NULL on tool outcomes
}
_APPROVAL_ENUMS: Enums = {"status": {status.value: status for status in ApprovalStatus}}

_set = object.__setattr__


def row_builder(model: type[M], columns: tuple[str, ...], enums: Enums = _ENUMS) -> Callable[[tuple[Any, ...]], M]:
    """A function turning a tuple selected in `columns` order into a `model` instance.

    `enums` maps each enum column to its members by value (the same column name means a
    different enum in different tables: `status`).
    """
    fields_set = frozenset(columns)
    conversions = [(name, enums[name]) for name in columns if name in enums]
    new = object.__new__

    def build(values: tuple[Any, ...]) -> M:
        fields = dict(zip(columns, values, strict=True))
        for name, members in conversions:
            fields[name] = members[fields[name]]
        row = new(model)
        _set(row, "__dict__", fields)
        _set(row, "__pydantic_fields_set__", set(fields_set))
        _set(row, "__pydantic_extra__", None)
        _set(row, "__pydantic_private__", None)
        return row

    return build


build_asset = row_builder(AssetRow, ASSET_COLUMNS)
build_variant = row_builder(VariantRow, VARIANT_COLUMNS)
build_lineage = row_builder(LineageRow, LINEAGE_COLUMNS)
build_chat_message = row_builder(ChatMessageRow, CHAT_MESSAGE_COLUMNS, _CHAT_ENUMS)
build_approval = row_builder(ApprovalRow, APPROVAL_COLUMNS, _APPROVAL_ENUMS)


def build_all(build: Callable[[tuple[Any, ...]], M], rows: Iterable[tuple[Any, ...]]) -> list[M]:
    return [build(values) for values in rows]


def values_of(row: BaseModel, columns: tuple[str, ...]) -> tuple[Any, ...]:
    fields = row.__dict__
    return tuple(fields[name] for name in columns)
