"""Making things in the browser against the real product: generation seen live, uploads, the chat's approvals."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    Person,
    add_member,
    card,
    card_statuses,
    create_space,
    drop_file,
    generate,
    open_space,
    png_file,
    record_card_statuses,
    register,
    sign_up,
    wait_until_picture_loads,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

People = Callable[[str], Person]
WORKING = {"pending", "processing", "uploading"}


def test_an_image_generated_in_one_browser_appears_as_a_placeholder_then_the_picture_in_another(
    people: People, api: httpx.Client, artifacts: Path
):
    ada, bob = people("Ada"), people("Bob")
    register(api, bob)
    sign_up(ada)
    space_id = create_space(ada, "Fox den")
    add_member(api, ada, space_id, bob, "editor")
    open_space(bob, space_id)
    record_card_statuses(bob.page)

    ada.page.get_by_role("button", name="Generate…").click()
    form = ada.page.get_by_role("form", name="Generate")
    expect(form.get_by_label("Model")).to_have_value("gemini-3.1-flash-image")
    expect(form.get_by_test_id("cost")).to_have_text("Cost: 1 credit (1 image)")
    form.get_by_label("Model").select_option("gemini-3-pro-image")
    expect(form.get_by_test_id("cost")).to_have_text("Cost: 4 credits (1 image)")
    form.get_by_label("Media kind").select_option("video")
    expect(form.get_by_label("Video tier")).to_have_value("fast")
    form.get_by_label("Video duration seconds").select_option("4")
    expect(form.get_by_test_id("cost")).to_have_text("Cost: 40 credits (4 seconds)")
    ada.screenshot(artifacts, "07-generate-form-video")
    form.get_by_label("Media kind").select_option("image")

    generate(ada.page, name="Red fox", prompt="a red fox in the snow")
    expect(card(bob.page, "Red fox")).to_be_visible()
    wait_until_picture_loads(bob.page, card(bob.page, "Red fox").locator("img.card-preview"))
    wait_until_picture_loads(ada.page, card(ada.page, "Red fox").locator("img.card-preview"))

    seen = card_statuses(bob.page, "Red fox")
    assert seen[-1] == "completed", seen
    assert WORKING & set(seen), f"Bob never saw the placeholder: {seen}"
    bob.screenshot(artifacts, "08-generated-image-in-the-other-browser")

    # Bob refines it from its details: a second variant of the same asset, made live for Ada too.
    card(bob.page, "Red fox").click()
    details = bob.page.get_by_test_id("asset-details")
    details.get_by_label("Refine prompt").fill("the same fox, at night")
    details.get_by_role("button", name="Refine").click()
    expect(details.get_by_test_id("variant")).to_have_count(2)
    expect(details.locator('[data-testid="variant"][data-status="completed"]')).to_have_count(2, timeout=60_000)
    card(ada.page, "Red fox").click()
    expect(ada.page.get_by_test_id("asset-details").get_by_test_id("variant")).to_have_count(2)


def test_a_png_chosen_with_the_file_picker_uploads_and_shows(people: People, artifacts: Path, tmp_path: Path):
    ada = people("Ada")
    sign_up(ada)
    create_space(ada, "Uploads")
    page = ada.page

    page.get_by_label("Upload files").set_input_files(str(png_file(tmp_path / "sunset.png")))
    expect(card(page, "sunset")).to_be_visible()
    expect(page.get_by_test_id("upload").filter(has_text="sunset.png")).to_have_attribute("data-stage", "done")
    wait_until_picture_loads(page, card(page, "sunset").locator("img.card-preview"))

    # Dropped on the canvas, a file is uploaded the same way.
    drop_file(page, '[data-testid="drop-zone"]', png_file(tmp_path / "dusk.png", color=(40, 40, 120)), "image/png")
    expect(card(page, "dusk")).to_be_visible()
    wait_until_picture_loads(page, card(page, "dusk").locator("img.card-preview"))

    # A text file dressed as a PNG is checked by content and refused, with the reason shown.
    fake = tmp_path / "notes.png"
    fake.write_text("these are notes, not a picture")
    page.get_by_label("Upload files").set_input_files(str(fake))
    refused = page.get_by_test_id("upload").filter(has_text="notes.png")
    expect(refused).to_have_attribute("data-stage", "failed")
    expect(refused.get_by_role("alert")).to_contain_text(re.compile(r"notes\.png (was refused|is too large)"))
    ada.screenshot(artifacts, "09-uploads")


def test_an_approved_chat_proposal_makes_a_new_asset_seen_by_both(people: People, api: httpx.Client, artifacts: Path):
    ada, bob = people("Ada"), people("Bob")
    register(api, bob)
    sign_up(ada)
    space_id = create_space(ada, "Bot studio")
    add_member(api, ada, space_id, bob, "editor")
    open_space(bob, space_id)

    chat = ada.page.get_by_test_id("chat")
    chat.get_by_role("radio", name="actor").check()
    chat.get_by_role("textbox", name="Message").fill("generate an image of a red fox")
    chat.get_by_role("button", name="Send").click()
    expect(chat.get_by_test_id("chat-message").filter(has_text="generate an image of a red fox")).to_be_visible()

    for person in (ada, bob):
        proposal = person.page.get_by_test_id("approval")
        expect(proposal).to_have_count(1, timeout=30_000)
        expect(proposal).to_have_attribute("data-status", "pending")
        expect(proposal.get_by_role("button", name="Approve")).to_be_visible()
    ada.screenshot(artifacts, "10-chat-approval-card")

    bob.page.get_by_test_id("approval").get_by_role("button", name="Approve").click()
    for person in (ada, bob):
        expect(person.page.get_by_test_id("approval")).to_have_attribute(
            "data-status", re.compile("approved|executed"), timeout=30_000
        )
        expect(person.page.get_by_test_id("asset-card")).to_have_count(1, timeout=30_000)
        wait_until_picture_loads(person.page, person.page.get_by_test_id("asset-card").locator("img.card-preview"))
    expect(ada.page.get_by_test_id("approval").get_by_role("button", name="Approve")).to_have_count(0)
    bob.screenshot(artifacts, "11-chat-approved-asset")
