"""The browser client against the real product: accounts, spaces, members, the live canvas, roles, resuming."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.conftest import Person, card, create_asset, create_space, drag, log_in, register, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SOCKET = re.compile(r"/api/spaces/[^/]+/ws")
People = Callable[[str], Person]


def mark_page(page: Page) -> None:
    """Leaves a mark in the page's JavaScript world: a reload would wipe it."""
    page.evaluate("window.__notReloaded = true")


def was_not_reloaded(page: Page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def test_a_new_user_signs_up_manages_spaces_and_logs_out_and_back_in(people: People, artifacts: Path):
    ada = people("Ada")
    ada.page.goto("/")
    expect(ada.page).to_have_url(re.compile(r"/login"))
    ada.screenshot(artifacts, "01-login")
    sign_up(ada)

    create_space(ada, "Trailer")
    ada.page.get_by_role("link", name="← Spaces").click()
    create_space(ada, "Scratch")
    ada.page.get_by_role("link", name="← Spaces").click()
    spaces = ada.page.get_by_role("list", name="My spaces")
    expect(spaces.get_by_role("listitem")).to_have_count(2)

    scratch = spaces.get_by_role("listitem").filter(has_text="Scratch").get_attribute("data-space-id")
    row = ada.page.locator(f'[data-space-id="{scratch}"]')
    row.get_by_role("button", name="Rename").click()
    row.get_by_label("New name").fill("Sketches")
    row.get_by_role("button", name="Save").click()
    expect(spaces.get_by_role("link", name="Sketches")).to_be_visible()
    ada.screenshot(artifacts, "02-my-spaces")

    ada.page.once("dialog", lambda dialog: dialog.accept())
    spaces.get_by_role("listitem").filter(has_text="Sketches").get_by_role("button", name="Delete").click()
    expect(spaces.get_by_role("listitem")).to_have_count(1)

    ada.page.get_by_role("button", name="Log out").click()
    expect(ada.page).to_have_url(re.compile(r"/login"))
    ada.page.goto("/spaces")
    expect(ada.page).to_have_url(re.compile(r"/login"))

    ada.page.get_by_label("Email").fill(ada.email)
    ada.page.get_by_label("Password").fill("not the password")
    ada.page.get_by_role("button", name="Log in").click()
    expect(ada.page.get_by_role("alert")).to_contain_text("wrong email or password")

    log_in(ada)
    expect(ada.page.get_by_role("link", name="Trailer")).to_be_visible()


def test_an_asset_made_in_one_browser_appears_and_moves_in_another(people: People, api: httpx.Client, artifacts: Path):
    ada, bob = people("Ada"), people("Bob")
    register(api, bob)
    sign_up(ada)
    space_id = create_space(ada, "Forest chase")

    # Ada makes Bob an editor through the members page.
    ada.page.get_by_role("link", name="Members").click()
    ada.page.get_by_label("Member email").fill(bob.email)
    ada.page.get_by_label("Member role").select_option("editor")
    ada.page.get_by_role("button", name="Add member").click()
    members = ada.page.get_by_role("table", name="Members")
    expect(members.get_by_role("row").filter(has_text=bob.email)).to_be_visible()
    ada.screenshot(artifacts, "03-members")
    ada.page.get_by_role("link", name="← back to Forest chase").click()

    log_in(bob, then=f"/spaces/{space_id}")
    expect(bob.page.get_by_test_id("connection")).to_have_attribute("data-status", "open")
    mark_page(bob.page)
    expect(bob.page.get_by_role("list", name="Who is here").get_by_role("listitem")).to_have_count(2)

    create_asset(ada.page, "Hero")
    expect(card(bob.page, "Hero")).to_be_visible()

    landing = drag(ada.page, "Hero", 260, 140)
    expect(card(ada.page, "Hero")).to_have_attribute("data-x", str(landing[0]))
    expect(card(bob.page, "Hero")).to_have_attribute("data-x", str(landing[0]))
    expect(card(bob.page, "Hero")).to_have_attribute("data-y", str(landing[1]))

    # Bob, an editor, renames it from its details; Ada sees the new name.
    card(bob.page, "Hero").click()
    details = bob.page.get_by_test_id("asset-details")
    expect(details).to_be_visible()
    details.get_by_role("button", name="Rename").click()
    details.get_by_label("Asset name").fill("Heroine")
    details.get_by_role("button", name="Save", exact=True).click()
    expect(card(ada.page, "Heroine")).to_be_visible()

    # Filters and search narrow the canvas.
    create_asset(ada.page, "Rain")
    ada.page.get_by_label("Search by name").fill("rai")
    expect(ada.page.get_by_test_id("asset-card")).to_have_count(1)
    ada.page.get_by_label("Search by name").fill("")
    ada.page.get_by_label("Media kind", exact=True).select_option("audio")
    expect(ada.page.get_by_test_id("asset-card")).to_have_count(0)
    ada.page.get_by_label("Media kind", exact=True).select_option("all")
    expect(ada.page.get_by_test_id("asset-card")).to_have_count(2)

    assert was_not_reloaded(bob.page)
    ada.screenshot(artifacts, "04-canvas-owner")
    bob.screenshot(artifacts, "05-canvas-editor-with-details")


def test_a_viewer_sees_the_space_but_cannot_change_it(people: People, api: httpx.Client, artifacts: Path):
    ada, vera = people("Ada"), people("Vera")
    register(api, vera)
    sign_up(ada)
    space_id = create_space(ada, "Museum")
    create_asset(ada.page, "Statue")
    token = ada.page.evaluate("JSON.parse(localStorage.getItem('makefx.session')).accessToken")
    added = api.post(
        f"/api/spaces/{space_id}/members",
        json={"email": vera.email, "role": "viewer"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert added.status_code == 201, added.text

    # Ada asks the assistant, in actor mode, for a change: it waits for an editor's approval.
    chat = ada.page.get_by_test_id("chat")
    chat.get_by_role("radio", name="actor").check()
    chat.get_by_role("textbox", name="Message").fill("generate an image of a red fox")
    chat.get_by_role("button", name="Send").click()
    expect(ada.page.get_by_test_id("approval").get_by_role("button", name="Approve")).to_be_visible(timeout=30_000)

    log_in(vera, then=f"/spaces/{space_id}")
    page = vera.page
    expect(page.get_by_test_id("connection")).to_have_attribute("data-status", "open")
    expect(card(page, "Statue")).to_be_visible()
    expect(page.locator(".space-header .role")).to_have_text("viewer")
    expect(page.get_by_role("button", name="Create asset")).to_be_disabled()
    expect(page.get_by_label("Asset name", exact=True)).to_be_disabled()

    # She reads the conversation and sees the proposal, but cannot decide it, generate, upload or chat.
    proposal = page.get_by_test_id("approval")
    expect(proposal).to_have_attribute("data-status", "pending")
    expect(proposal.get_by_role("button", name="Approve")).to_have_count(0)
    expect(proposal.get_by_role("button", name="Reject")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Generate"))).to_have_count(0)
    expect(page.get_by_role("button", name="Upload…")).to_have_count(0)
    expect(page.get_by_test_id("chat").get_by_role("button", name="Send")).to_have_count(0)

    # Dragging does nothing for a viewer.
    before = card(page, "Statue").get_attribute("data-x")
    drag(page, "Statue", 200, 100)
    expect(card(page, "Statue")).to_have_attribute("data-x", before or "0")

    # Her details show the asset, with every change turned off.
    card(page, "Statue").click()
    details = page.get_by_test_id("asset-details")
    expect(details.get_by_role("button", name="Rename")).to_be_disabled()
    expect(details.get_by_role("button", name="Delete asset")).to_be_disabled()

    # Forcing a change past the disabled controls: the server refuses it, and she is told.
    page.evaluate(
        """() => document.querySelectorAll('form[aria-label="New asset"] [disabled]')
                 .forEach((element) => element.removeAttribute('disabled'))"""
    )
    page.get_by_label("Asset name", exact=True).fill("Graffiti")
    page.get_by_role("button", name="Create asset").click()
    refusal = page.locator('form[aria-label="New asset"]').get_by_role("alert")
    expect(refusal).to_contain_text("viewers")
    vera.screenshot(artifacts, "06-viewer-refused")
    expect(card(ada.page, "Graffiti")).to_have_count(0)


def test_a_dropped_connection_resumes_from_the_last_seq_without_a_reload(people: People, api: httpx.Client):
    ada, bob = people("Ada"), people("Bob")
    register(api, bob)
    sign_up(ada)
    space_id = create_space(ada, "Harbour")
    create_asset(ada.page, "Boat")
    token = ada.page.evaluate("JSON.parse(localStorage.getItem('makefx.session')).accessToken")
    added = api.post(
        f"/api/spaces/{space_id}/members",
        json={"email": bob.email, "role": "editor"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert added.status_code == 201, added.text

    # Bob's socket runs through a relay the test can cut, and which records what Bob sends.
    relays: list[tuple[WebSocketRoute, WebSocketRoute]] = []
    sent: list[str] = []
    # While held, every reconnection is turned away at once, so "reconnecting" lasts until the
    # test has seen it (a reconnect left alone is back within half a second).
    held = [False]

    def relay(page_side: WebSocketRoute) -> None:
        if held[0]:
            page_side.close(code=4000, reason="the test holds the line")
            return
        server_side = page_side.connect_to_server()

        def forward(message: str | bytes) -> None:
            sent.append(message if isinstance(message, str) else message.decode())
            server_side.send(message)

        page_side.on_message(forward)
        relays.append((page_side, server_side))

    bob.page.route_web_socket(SOCKET, relay)
    log_in(bob, then=f"/spaces/{space_id}")
    expect(card(bob.page, "Boat")).to_be_visible()
    mark_page(bob.page)
    first_sync = next(message for message in sent if '"sync:request"' in message)
    assert "sinceSeq" not in first_sync

    page_side, server_side = relays[-1]
    held[0] = True
    server_side.close(code=1000, reason="the test cut the line")
    page_side.close(code=4000, reason="the test cut the line")
    expect(bob.page.get_by_test_id("connection")).to_have_attribute("data-status", "reconnecting")
    # While it is away, Bob's canvas stays as it was: no flicker to an empty page.
    expect(card(bob.page, "Boat")).to_be_visible()
    create_asset(ada.page, "Lighthouse")
    held[0] = False

    expect(bob.page.get_by_test_id("connection")).to_have_attribute("data-status", "open")
    expect(card(bob.page, "Lighthouse")).to_be_visible()
    resumed = [message for message in sent if '"sync:request"' in message][-1]
    assert re.search(r'"sinceSeq":\s*[1-9]\d*', resumed), resumed
    assert was_not_reloaded(bob.page)
