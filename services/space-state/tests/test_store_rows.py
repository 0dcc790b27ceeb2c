"""Rows built from SQLite tuples equal the validated models and serialize the same, without warnings."""

from __future__ import annotations

import warnings

from makefx_contracts.rows import ApprovalRow, AssetRow, ChatMessageRow, LineageRow, VariantRow
from makefx_space_state.store.rows import (
    APPROVAL_COLUMNS,
    ASSET_COLUMNS,
    CHAT_MESSAGE_COLUMNS,
    LINEAGE_COLUMNS,
    VARIANT_COLUMNS,
    build_approval,
    build_asset,
    build_chat_message,
    build_lineage,
    build_variant,
    values_of,
)


def test_built_rows_equal_validated_rows_and_dump_identically():
    cases = [
        (
            build_asset,
            AssetRow,
            ASSET_COLUMNS,
            ("a", "Hero", "character", "video", None, "v", 1.5, -2.0, '["x"]', "u", 1, 2, None),
        ),
        (
            build_variant,
            VariantRow,
            VARIANT_COLUMNS,
            (
                "v",
                "a",
                "audio",
                "wf",
                "failed",
                "boom",
                None,
                None,
                "media/s/v.mp3",
                "audio/mpeg",
                10,
                None,
                None,
                900,
                '{"p":1}',
                None,
                "{}",
                1,
                "u",
                1,
                None,
                None,
            ),
        ),
        (build_lineage, LineageRow, LINEAGE_COLUMNS, ("l", "v1", "v2", "forked", 1, 3)),
        (
            build_chat_message,
            ChatMessageRow,
            CHAT_MESSAGE_COLUMNS,
            ("m", "user", "actor", "hi", None, None, None, "u", 4),
        ),
        (
            build_chat_message,
            ChatMessageRow,
            CHAT_MESSAGE_COLUMNS,
            ("t", "tool", None, "done", None, "call-1", '{"status":"executed"}', "u", 5),
        ),
        (
            build_approval,
            ApprovalRow,
            APPROVAL_COLUMNS,
            ("p", "m", "call-1", "generate", "{}", "failed", None, "refused", "u", 6, "u2", 7, 7),
        ),
    ]
    for build, model, columns, values in cases:
        built = build(values)
        validated = model.model_validate(dict(zip(columns, values, strict=True)))
        assert built == validated
        assert type(built) is model
        assert values_of(built, columns) == values
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert built.model_dump_json() == validated.model_dump_json()
        assert built.model_copy(update={"id": "other"}).id == "other"
