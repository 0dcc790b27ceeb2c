"""The canvas's filters against the real product: by tag, by media kind, by a piece of the name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Person, card, create_space, details_of, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

People = Callable[[str], Person]


def create(page: Page, name: str, media_kind: str) -> None:
    page.get_by_label("Asset name", exact=True).fill(name)
    page.get_by_label("Asset media kind").select_option(media_kind)
    page.get_by_role("button", name="Create asset").click()
    expect(card(page, name)).to_be_visible()


def shown(page: Page) -> list[str]:
    return sorted(
        name or ""
        for name in page.get_by_test_id("asset-card").evaluate_all(
            "(cards) => cards.map((card) => card.dataset.assetName)"
        )
    )


def test_the_canvas_filters_by_tag_by_media_kind_and_by_name(people: People, artifacts: Path):
    ada = people("Ada")
    sign_up(ada)
    create_space(ada, "Weather")
    page = ada.page
    create(page, "Rain", "image")
    create(page, "Thunder", "audio")
    create(page, "Sun", "image")

    # Rain gets two tags from its details; they show on its card and in the tag filter.
    details = details_of(page, "Rain")
    details.get_by_label("Tags, separated by commas").fill("wet, storm")
    details.get_by_role("button", name="Save tags").click()
    expect(card(page, "Rain").locator(".tag")).to_have_text(["wet", "storm"])
    details.get_by_role("button", name="Close details").click()

    toolbar = page.get_by_role("search")
    toolbar.get_by_label("Tag").select_option("storm")
    expect(page.get_by_test_id("asset-card")).to_have_count(1)
    assert shown(page) == ["Rain"]
    expect(toolbar.locator(".count")).to_have_text("1 of 3 assets")
    ada.screenshot(artifacts, "15-canvas-filtered-by-tag")
    toolbar.get_by_label("Tag").select_option("")

    toolbar.get_by_label("Media kind").select_option("audio")
    expect(page.get_by_test_id("asset-card")).to_have_count(1)
    assert shown(page) == ["Thunder"]
    toolbar.get_by_label("Media kind").select_option("image")
    expect(page.get_by_test_id("asset-card")).to_have_count(2)
    assert shown(page) == ["Rain", "Sun"]

    # The filters combine: images whose name holds "u" (Thunder holds one too, but is a sound).
    toolbar.get_by_label("Search by name").fill("U")
    expect(page.get_by_test_id("asset-card")).to_have_count(1)
    assert shown(page) == ["Sun"]
    toolbar.get_by_label("Media kind").select_option("all")
    expect(page.get_by_test_id("asset-card")).to_have_count(2)
    assert shown(page) == ["Sun", "Thunder"]
    toolbar.get_by_label("Search by name").fill("")
    expect(page.get_by_test_id("asset-card")).to_have_count(3)
    expect(toolbar.locator(".count")).to_have_text("3 assets")
