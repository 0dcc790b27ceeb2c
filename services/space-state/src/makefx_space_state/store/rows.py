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

from makefx_contracts.rows import AssetRow, LineageRelation, LineageRow, MediaKind, VariantRow, VariantStatus

M = TypeVar("M", bound=BaseModel)

ASSET_COLUMNS: tuple[str, ...] = tuple(AssetRow.model_fields)
VARIANT_COLUMNS: tuple[str, ...] = tuple(VariantRow.model_fields)
LINEAGE_COLUMNS: tuple[str, ...] = tuple(LineageRow.model_fields)

_ENUMS: dict[str, dict[Any, Any]] = {
    "media_kind": {kind.value: kind for kind in MediaKind},
    "status": {status.value: status for status in VariantStatus},
    "relation_type": {relation.value: relation for relation in LineageRelation},
}

_set = object.__setattr__


def row_builder(model: type[M], columns: tuple[str, ...]) -> Callable[[tuple[Any, ...]], M]:
    """A function turning a tuple selected in `columns` order into a `model` instance."""
    fields_set = frozenset(columns)
    conversions = [(name, _ENUMS[name]) for name in columns if name in _ENUMS]
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


def build_all(build: Callable[[tuple[Any, ...]], M], rows: Iterable[tuple[Any, ...]]) -> list[M]:
    return [build(values) for values in rows]


def values_of(row: BaseModel, columns: tuple[str, ...]) -> tuple[Any, ...]:
    fields = row.__dict__
    return tuple(fields[name] for name in columns)
