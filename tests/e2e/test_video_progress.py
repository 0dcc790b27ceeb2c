"""A video's progress, as Veo reports it while its long-running operation is polled, shows in every browser.

This module's product talks to a fake Vertex AI (`:predictLongRunning`, then
`:fetchPredictOperation`, over real HTTP, driven by the real google-genai SDK in the
generation service). The fake keeps the operation running at 30% until the test has seen
the progress bar in both browsers, then finishes it with a real MP4.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, expect

from makefx_testing.media_files import mp4_bytes
from tests.e2e.conftest import (
    FakeProvider,
    Person,
    add_member,
    card,
    create_space,
    open_space,
    register,
    running_product,
    serving,
    sign_up,
    wait_until_picture_loads,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

People = Callable[[str], Person]
OPERATION = "projects/p/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001/operations/op1"
PERCENT = 30


class FakeVertex(FakeProvider):
    """Starts one Veo operation and reports it running at `PERCENT` until `finish` is set; then its video."""

    def __init__(self) -> None:
        super().__init__()
        self.finish = threading.Event()

    def answer(self, path: str) -> dict | None:
        path = path.split("?")[0]
        self.record(path)
        if path.endswith(":predictLongRunning"):
            return {"name": OPERATION}
        if not path.endswith(":fetchPredictOperation"):
            return None
        if not self.finish.is_set():
            return {"name": OPERATION, "done": False, "metadata": {"progressPercent": PERCENT}}
        video = {"bytesBase64Encoded": base64.b64encode(mp4_bytes()).decode(), "mimeType": "video/mp4"}
        return {"name": OPERATION, "done": True, "response": {"videos": [video]}}


@pytest.fixture(scope="module")
def vertex() -> Iterator[FakeVertex]:
    with serving(FakeVertex()) as fake:
        try:
            yield fake
        finally:
            fake.finish.set()


@pytest.fixture(scope="module")
def product_url(tmp_path_factory: pytest.TempPathFactory, vertex: FakeVertex) -> Iterator[str]:
    """This module's own product, whose Vertex AI is the fake (the other modules share the plain one)."""
    env = {
        "MAKEFX_VERTEX_API_KEY": "test-key",
        "MAKEFX_VERTEX_BASE_URL": vertex.url,
        "MAKEFX_VEO_POLL_SECONDS": "0.2",
        "MAKEFX_PROVIDER_RETRIES": "0",
        "MAKEFX_PROVIDER_BACKOFF_SECONDS": "0",
    }
    with running_product(tmp_path_factory.mktemp("vertex-product") / "data", env) as url:
        yield url


def expect_progress_bar(bar: Locator) -> None:
    """The bar shows how far the operation is: a value between 0 and 100, the one Veo reported."""
    expect(bar).to_be_visible(timeout=30_000)
    expect(bar).to_have_attribute("value", str(PERCENT))
    value = float(bar.get_attribute("value") or "nan")
    assert 0 < value < 100, value
    expect(bar).to_have_attribute("aria-label", f"{PERCENT}% done")


def test_a_video_shows_its_progress_in_both_browsers_then_its_player_with_a_poster(
    people: People, api: httpx.Client, vertex: FakeVertex, artifacts: Path
):
    ada, bob = people("Ada"), people("Bob")
    register(api, bob)
    sign_up(ada)
    space_id = create_space(ada, "Seaside")
    add_member(api, ada, space_id, bob, "editor")
    open_space(bob, space_id)

    ada.page.get_by_role("button", name="Generate…").click()
    form = ada.page.get_by_role("form", name="Generate")
    form.get_by_label("Media kind").select_option("video")
    expect(form.get_by_label("Model")).to_have_value("veo-3.1-generate")
    form.get_by_label("Video duration seconds").select_option("4")
    form.get_by_label("Name").fill("Waves")
    form.get_by_label("Prompt").fill("waves at dusk")
    form.get_by_role("button", name="Generate video").click()

    # The operation stays running at 30% until both browsers show its bar.
    for person in (ada, bob):
        expect_progress_bar(card(person.page, "Waves").locator("progress.job-progress"))
    card(bob.page, "Waves").click()
    details = bob.page.get_by_test_id("asset-details")
    expect_progress_bar(details.locator(".asset-preview progress.job-progress"))
    expect(details.get_by_test_id("variant")).to_have_attribute("data-status", "processing")
    bob.screenshot(artifacts, "22-video-generation-progress")

    vertex.finish.set()
    for person in (ada, bob):
        wait_until_picture_loads(person.page, card(person.page, "Waves").locator("img.card-preview"))
        expect(card(person.page, "Waves").locator("progress.job-progress")).to_have_count(0)
    expect(details.get_by_test_id("variant")).to_have_attribute("data-status", "completed")
    player = details.locator(".asset-preview video")
    expect(player).to_have_attribute("data-status", "completed")
    expect(player).to_have_attribute("controls", "")
    expect(player).to_have_attribute("poster", f"/api/spaces/{space_id}/variants/{variant_id(details)}/poster")
    assert vertex.calls[0].endswith("veo-3.1-fast-generate-001:predictLongRunning"), vertex.calls
    assert vertex.calls[-1].endswith("veo-3.1-fast-generate-001:fetchPredictOperation"), vertex.calls
    bob.screenshot(artifacts, "23-video-generated")


def variant_id(details: Locator) -> str:
    value = details.get_by_test_id("variant").get_attribute("data-variant-id")
    assert value, "the variant has no id"
    return value
