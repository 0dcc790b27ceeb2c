"""What is shown while something is under way, against the real product: a reply streaming in, an upload's bar.

The test holds back the frame that ends each (the assistant's final message, the upload's
bytes) until it has seen the in-between state in the page, then lets it through: no timing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Route, expect

from tests.e2e.conftest import (
    Person,
    SocketRelay,
    add_member,
    card,
    create_space,
    log_in,
    noisy_png_file,
    register,
    sign_up,
    wait_until_picture_loads,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

People = Callable[[str], Person]
ASSISTANT_MESSAGE = re.compile(r'"type":\s*"chat:message".*"role":\s*"assistant"', re.DOTALL)
# The local assistant's advisor reply begins so, and names what the space holds.
REPLY_START = "I am the offline assistant"


def test_an_advisor_reply_streams_into_both_browsers_then_becomes_the_final_message(
    people: People, api: httpx.Client, artifacts: Path
):
    ada, bob = people("Ada"), people("Bob")
    register(api, bob)
    sign_up(ada)
    space_id = create_space(ada, "Library")
    add_member(api, ada, space_id, bob, "editor")
    relays = {person.name: SocketRelay(person.page) for person in (ada, bob)}
    ada.page.reload()
    log_in(bob, then=f"/spaces/{space_id}")
    for person in (ada, bob):
        expect(person.page.get_by_test_id("connection")).to_have_attribute("data-status", "open")
        relays[person.name].hold_from = ASSISTANT_MESSAGE.search

    chat = ada.page.get_by_test_id("chat")
    expect(chat.get_by_role("radio", name="advisor")).to_be_checked()
    chat.get_by_role("textbox", name="Message").fill("what is in this space?")
    chat.get_by_role("button", name="Send").click()

    # The reply streams in while its final message is held back.
    for person in (ada, bob):
        streaming = person.page.get_by_test_id("chat-streaming")
        expect(streaming).to_contain_text(REPLY_START, timeout=30_000)
        expect(person.page.get_by_test_id("chat-message").filter(has_text=REPLY_START)).to_have_count(0)
    bob.screenshot(artifacts, "16-chat-reply-streaming")

    for person in (ada, bob):
        relays[person.name].release()
        final = person.page.locator('[data-testid="chat-message"][data-role="assistant"]')
        expect(final).to_have_count(1)
        expect(final).to_contain_text(f"{REPLY_START} (no Claude key is configured)")
        expect(final).to_contain_text("This space has no assets yet.")
        expect(person.page.get_by_test_id("chat-streaming")).to_have_count(0)
        expect(person.page.get_by_test_id("chat-message").filter(has_text="what is in this space?")).to_have_count(1)
    ada.screenshot(artifacts, "17-chat-reply-final")


def test_a_larger_upload_shows_its_progress_bar_then_the_finished_picture(
    people: People, artifacts: Path, tmp_path: Path
):
    ada = people("Ada")
    sign_up(ada)
    create_space(ada, "Big files")
    page = ada.page
    picture = noisy_png_file(tmp_path / "panorama.png", (1400, 1000))
    assert picture.stat().st_size > 4_000_000

    # The bytes' PUT waits until the test has seen the page while they are being sent.
    held: list[Route] = []
    page.route("**/*", lambda route: held.append(route) if route.request.method == "PUT" else route.fallback())
    page.get_by_label("Upload files").set_input_files(str(picture))

    upload = page.get_by_test_id("upload").filter(has_text="panorama.png")
    expect(upload).to_have_attribute("data-stage", "sending")
    expect(upload.get_by_role("progressbar", name="panorama.png sent")).to_be_visible()
    expect(card(page, "panorama").locator(".card-preview")).to_have_attribute("data-status", "uploading")
    assert len(held) == 1
    ada.screenshot(artifacts, "18-upload-in-progress")

    held[0].continue_()
    page.unroute("**/*")
    expect(upload).to_have_attribute("data-stage", "done", timeout=30_000)
    expect(upload.get_by_role("progressbar", name="panorama.png sent")).to_have_attribute("value", "100")
    wait_until_picture_loads(page, card(page, "panorama").locator("img.card-preview"))
    ada.screenshot(artifacts, "19-upload-finished")
