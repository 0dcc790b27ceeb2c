"""The seed's key layout and the rule every key obeys."""

from __future__ import annotations

import pytest

from makefx_storage import InvalidKey
from makefx_storage.keys import (
    belongs_to_variant,
    check_key,
    image_key,
    is_staging_key,
    media_key,
    poster_key,
    staging_key,
    thumb_key,
    variant_prefixes,
)


def test_keys_follow_the_seed_layout() -> None:
    assert image_key("spc_1", "var_2", "png") == "images/spc_1/var_2.png"
    assert thumb_key("spc_1", "var_2") == "images/spc_1/var_2_thumb.webp"
    assert media_key("spc_1", "var_2", "mp4") == "media/spc_1/var_2.mp4"
    assert poster_key("spc_1", "var_2") == "media/spc_1/var_2_poster.webp"
    assert staging_key("spc_1", "var_2") == "staging/spc_1/var_2"
    assert is_staging_key(staging_key("spc_1", "var_2"))
    assert not is_staging_key(image_key("spc_1", "var_2", "png"))


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "a.b", "a b", "x" * 129, "é"])
def test_ids_outside_the_subject_token_alphabet_are_refused(bad: str) -> None:
    with pytest.raises(InvalidKey):
        image_key(bad, "v1", "png")
    with pytest.raises(InvalidKey):
        media_key("s1", bad, "mp3")


@pytest.mark.parametrize("bad", ["", "PNG", "p/ng", "toolong", ".png"])
def test_extensions_are_short_lowercase_words(bad: str) -> None:
    with pytest.raises(InvalidKey):
        image_key("s1", "v1", bad)


def test_every_key_of_a_variant_is_recognised_and_no_other() -> None:
    mine = [
        "images/s1/v1.png",
        "images/s1/v1_thumb.webp",
        "media/s1/v1.mp4",
        "media/s1/v1_poster.webp",
        "staging/s1/v1",
    ]
    others = ["images/s1/v10.png", "images/s1/v1_x.png", "images/s2/v1.png", "media/s1/v1.mp4.bak", "staging/s1/v10"]
    assert all(belongs_to_variant(key, "s1", "v1") for key in mine)
    assert not any(belongs_to_variant(key, "s1", "v1") for key in others)
    assert all(any(key.startswith(prefix) for prefix in variant_prefixes("s1", "v1")) for key in mine)


@pytest.mark.parametrize("key", ["images/s1/v1.png", "styles/a-b_c/x.1.jpg", "thumbs/x"])
def test_ordinary_keys_pass(key: str) -> None:
    assert check_key(key) == key
