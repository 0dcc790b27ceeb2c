"""The `fx.media.*` contracts on the wire: subjects, camelCase fields, validation of ids and keys."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from makefx_contracts.media import (
    DeleteVariantMedia,
    IngestMedia,
    MediaIngested,
    MediaProbed,
    ProbeMedia,
    SignedUrl,
    SignMedia,
    VariantMediaDeleted,
)
from makefx_contracts.rows import MediaKind


@pytest.mark.parametrize(
    ("request_type", "reply_type", "subject"),
    [
        (IngestMedia, MediaIngested, "fx.media.ingest"),
        (ProbeMedia, MediaProbed, "fx.media.probe"),
        (DeleteVariantMedia, VariantMediaDeleted, "fx.media.delete"),
        (SignMedia, SignedUrl, "fx.media.sign"),
    ],
)
def test_each_request_has_one_subject_and_one_reply(request_type, reply_type, subject: str) -> None:
    assert request_type.subject.wildcard == subject
    assert request_type.reply is reply_type


def test_fields_travel_in_camel_case() -> None:
    request = IngestMedia(
        space_id="spc_1", variant_id="var_1", media_kind=MediaKind.AUDIO, declared_content_type="audio/mpeg"
    )
    wire = json.loads(request.to_json())
    assert wire == {
        "type": "media:ingest",
        "spaceId": "spc_1",
        "variantId": "var_1",
        "mediaKind": "audio",
        "sourceKey": None,
        "declaredContentType": "audio/mpeg",
    }
    assert IngestMedia.model_validate_json(request.to_json()) == request
    assert request.address() == "fx.media.ingest"


@pytest.mark.parametrize("bad", ["", "a.b", "a/b", "x" * 129, "sp ace"])
def test_ids_must_be_subject_tokens(bad: str) -> None:
    with pytest.raises(ValidationError):
        IngestMedia(space_id=bad, variant_id="var_1", media_kind=MediaKind.IMAGE)
    with pytest.raises(ValidationError):
        DeleteVariantMedia(space_id="spc_1", variant_id=bad)


def test_signing_lifetimes_are_bounded() -> None:
    with pytest.raises(ValidationError):
        SignMedia(key="staging/s/v", expires_seconds=0)
    with pytest.raises(ValidationError):
        SignMedia(key="staging/s/v", expires_seconds=8 * 24 * 3600)
    assert SignMedia(key="images/s/v.png").expires_seconds == 900
