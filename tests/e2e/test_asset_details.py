"""An asset's details in the browser against the real product: its variants, their lineage, seen live by another.

Every change is made in Ada's window and checked in Bob's, who never reloads: starring,
choosing the active variant, forking into a new asset, deleting a variant and an asset.
Lineage links (forked, derived) lead from one asset's details to the other's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    Person,
    add_member,
    card,
    create_space,
    details_of,
    open_space,
    register,
    sign_up,
    wait_until_picture_loads,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

People = Callable[[str], Person]
ACTIVE = re.compile(r"\bactive\b")


def tile(details: Locator, variant_id: str) -> Locator:
    return details.locator(f'[data-testid="variant"][data-variant-id="{variant_id}"]')


def lineage_link(details: Locator, relation: str, name: str) -> Locator:
    return details.locator(f'.lineage-link[data-relation="{relation}"]').get_by_role("link", name=name, exact=True)


def shows_asset(page: Page, asset_id: str, name: str) -> None:
    """The page's address and its details panel are both about that asset."""
    expect(page).to_have_url(re.compile(rf"[?&]asset={asset_id}\b"))
    details = page.get_by_test_id("asset-details")
    expect(details).to_have_attribute("data-asset-id", asset_id)
    expect(details.get_by_role("heading", name=name, exact=True)).to_be_visible()


def generated(page: Page, name: str, prompt: str, references: tuple[str, ...] = ()) -> None:
    """Generates an image from the Generate form, ticking `references` on the canvas, and waits for the picture."""
    if not page.get_by_role("form", name="Generate").is_visible():
        page.get_by_role("button", name="Generate…").click()
    form = page.get_by_role("form", name="Generate")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Prompt").fill(prompt)
    for reference in references:
        form.get_by_role("group", name="References").get_by_role("checkbox", name=reference, exact=True).check()
    form.get_by_role("button", name="Generate image").click()
    expect(form.get_by_role("status")).to_contain_text(name)
    form.get_by_role("button", name="Close the Generate form").click()
    wait_until_picture_loads(page, card(page, name).locator("img.card-preview"))


def two_people_in_a_space(people: People, api: httpx.Client, space: str) -> tuple[Person, Person]:
    """Ada owns a new space where Bob is an editor; both have it open."""
    ada, bob = people("Ada"), people("Bob")
    register(api, bob)
    sign_up(ada)
    space_id = create_space(ada, space)
    add_member(api, ada, space_id, bob, "editor")
    open_space(bob, space_id)
    bob.page.evaluate("window.__notReloaded = true")
    return ada, bob


def test_starring_choosing_the_active_variant_forking_and_deleting_are_seen_in_another_browser(
    people: People, api: httpx.Client, artifacts: Path
):
    ada, bob = two_people_in_a_space(people, api, "Den")
    generated(ada.page, "Fox", "a red fox in the snow")
    mine = details_of(ada.page, "Fox")
    fox_id = mine.get_attribute("data-asset-id") or ""
    mine.get_by_label("Refine prompt").fill("the same fox, at night")
    mine.get_by_role("button", name="Refine").click()
    expect(mine.locator('[data-testid="variant"][data-status="completed"]')).to_have_count(2, timeout=60_000)
    original = mine.locator('[data-testid="variant"].active').get_attribute("data-variant-id") or ""
    refined = mine.locator('[data-testid="variant"]:not(.active)').get_attribute("data-variant-id") or ""
    theirs = details_of(bob.page, "Fox")
    expect(theirs.get_by_test_id("variant")).to_have_count(2)

    # A star.
    tile(mine, refined).get_by_role("button", name="Star", exact=True).click()
    expect(tile(theirs, refined).get_by_role("button", name="Unstar")).to_have_attribute("aria-pressed", "true")
    expect(tile(theirs, original).get_by_role("button", name="Star", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )

    # The refined variant becomes the active one: Bob's strip and his card show it.
    tile(mine, refined).get_by_role("button", name="Set active").click()
    expect(tile(theirs, refined)).to_have_class(ACTIVE)
    expect(tile(theirs, original)).not_to_have_class(ACTIVE)
    expect(card(bob.page, "Fox").locator("img.card-preview")).to_have_attribute("src", re.compile(refined))
    ada.screenshot(artifacts, "12-variants-starred-and-active")

    # Forked into a new asset: Bob sees it appear, made from Fox.
    tile(mine, refined).get_by_role("button", name="Fork").click()
    fork = tile(mine, refined).get_by_role("form", name="Fork into a new asset")
    fork.get_by_label("Name of the new asset").fill("Night fox")
    fork.get_by_role("button", name="Fork").click()
    expect(card(bob.page, "Night fox")).to_be_visible()
    theirs = details_of(bob.page, "Night fox")
    night_fox_id = theirs.get_attribute("data-asset-id") or ""
    expect(theirs.get_by_test_id("variant")).to_have_count(1)
    expect(lineage_link(theirs, "forked", "Fox")).to_be_visible()
    bob.screenshot(artifacts, "13-forked-asset-lineage")

    # The lineage leads back to Fox, and from Fox on to what it led to.
    lineage_link(theirs, "forked", "Fox").click()
    shows_asset(bob.page, fox_id, "Fox")
    theirs = bob.page.get_by_test_id("asset-details")
    expect(lineage_link(theirs, "forked", "Night fox")).to_be_visible()

    # Ada, the owner, deletes the variant that is no longer active.
    ada.page.once("dialog", lambda dialog: dialog.accept())
    tile(mine, original).get_by_role("button", name="Delete", exact=True).click()
    expect(theirs.get_by_test_id("variant")).to_have_count(1)
    expect(tile(theirs, refined)).to_have_class(ACTIVE)

    lineage_link(theirs, "forked", "Night fox").click()
    shows_asset(bob.page, night_fox_id, "Night fox")

    # And deletes the forked asset: its card and the details Bob had open go.
    mine = details_of(ada.page, "Night fox")
    ada.page.once("dialog", lambda dialog: dialog.accept())
    mine.get_by_role("button", name="Delete asset").click()
    expect(card(bob.page, "Night fox")).to_have_count(0)
    expect(bob.page.get_by_test_id("asset-details")).to_have_count(0)
    expect(card(bob.page, "Fox")).to_be_visible()
    assert bob.page.evaluate("window.__notReloaded === true")


def test_an_image_generated_from_a_reference_picked_on_the_canvas_is_derived_from_it(
    people: People, api: httpx.Client, artifacts: Path
):
    ada, bob = two_people_in_a_space(people, api, "Observatory")
    generated(ada.page, "Moon", "a full moon")
    moon_id = card(ada.page, "Moon").get_attribute("data-asset-id") or ""
    generated(ada.page, "Moon over the sea", "the moon over a calm sea", references=("Moon",))

    theirs = details_of(bob.page, "Moon over the sea")
    derived = lineage_link(theirs, "derived", "Moon")
    expect(derived).to_be_visible()
    bob.screenshot(artifacts, "14-derived-from-a-reference")
    derived.click()
    shows_asset(bob.page, moon_id, "Moon")
    expect(lineage_link(bob.page.get_by_test_id("asset-details"), "derived", "Moon over the sea")).to_be_visible()
