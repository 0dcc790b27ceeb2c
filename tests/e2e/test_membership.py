"""Membership changes against the real product, seen by the member whose page is open.

The gateway pushes each change to the member's open page at once: a demotion arrives as
`member:role` and the edit controls go without any action or reload; a removal closes the
page's socket (4403) and the page says the space is gone for them. The gateway still reads
the role afresh for every change sent, so nothing depends on the push arriving.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Person, card, create_asset, create_space, open_space, register, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

People = Callable[[str], Person]


def try_to_create(page: Page, name: str) -> None:
    page.get_by_label("Asset name", exact=True).fill(name)
    page.get_by_role("button", name="Create asset").click()


def add_through_the_members_page(owner: Person, member: Person, role: str) -> None:
    page = owner.page
    page.get_by_label("Member email").fill(member.email)
    page.get_by_label("Member role").select_option(role)
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_label(f"Role of {member.name}")).to_have_value(role)


def test_a_demoted_members_open_page_loses_the_edit_controls_and_a_removed_members_page_closes_at_once(
    people: People, api: httpx.Client, artifacts: Path
):
    ada, bob, cy = people("Ada"), people("Bob"), people("Cy")
    register(api, bob)
    register(api, cy)
    sign_up(ada)
    space_id = create_space(ada, "Workshop")
    create_asset(ada.page, "Lamp")
    ada.page.get_by_role("link", name="Members").click()
    add_through_the_members_page(ada, bob, "editor")
    add_through_the_members_page(ada, cy, "editor")

    for person in (bob, cy):
        open_space(person, space_id)
        person.page.evaluate("window.__notReloaded = true")
        expect(person.page.locator(".space-header .role")).to_have_text("editor")
    try_to_create(bob.page, "Chair")
    expect(card(bob.page, "Chair")).to_be_visible()

    # Ada makes Bob a viewer while his page is open.
    ada.page.get_by_label("Role of Bob").select_option("viewer")
    expect(ada.page.get_by_label("Role of Bob")).to_have_value("viewer")

    # Without doing anything, his page turns to a viewer's: told, and the edit controls gone.
    page = bob.page
    expect(page.locator(".space-header .role")).to_have_text("viewer")
    expect(page.get_by_role("alert").filter(has_text="Your role in this space is now viewer")).to_be_visible()
    expect(page.get_by_role("button", name="Create asset")).to_be_disabled()
    expect(page.get_by_role("button", name="Generate…")).to_have_count(0)
    expect(page.get_by_test_id("chat").get_by_role("button", name="Send")).to_have_count(0)
    expect(card(page, "Chair")).to_be_visible()
    bob.screenshot(artifacts, "20-demoted-to-viewer")
    assert page.evaluate("window.__notReloaded === true")

    # Ada removes Cy while his page is open: without doing anything, he is told and the space closes for him.
    ada.page.get_by_role("button", name="Remove Cy").click()
    expect(ada.page.get_by_role("table", name="Members").get_by_text(cy.email)).to_have_count(0)
    page = cy.page
    expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "refused")
    expect(page.get_by_role("alert").filter(has_text="This space cannot be opened")).to_contain_text(
        "no longer a member of this space"
    )
    expect(page.get_by_role("button", name="Create asset")).to_be_disabled()
    expect(page.get_by_role("button", name="Generate…")).to_have_count(0)
    expect(page.get_by_test_id("chat").get_by_role("button", name="Send")).to_have_count(0)
    cy.screenshot(artifacts, "21-removed-member")
    assert page.evaluate("window.__notReloaded === true")

    # Nor can he open it again, or find it among his spaces.
    page.reload()
    expect(page.get_by_role("main").get_by_role("alert")).to_have_text("space not found")
    expect(card(page, "Lamp")).to_have_count(0)
    page.goto("/spaces")
    expect(page.get_by_test_id("user-name")).to_have_text("Cy")
    expect(page.get_by_role("list", name="My spaces").get_by_role("listitem")).to_have_count(0)
