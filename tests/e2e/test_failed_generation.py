"""A generation the provider refuses shows failed with the reason, and Retry makes it again.

This module's product talks to a fake Gemini (`:generateContent` over real HTTP, driven by
the real google-genai SDK in the generation service): its first answer blocks the prompt
for safety, every later one is a PNG.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from makefx_testing.media_files import png_bytes
from tests.e2e.conftest import (
    FakeProvider,
    Person,
    card,
    create_space,
    generate,
    running_product,
    serving,
    sign_up,
    wait_until_picture_loads,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

People = Callable[[str], Person]
BLOCKED = "The prompt was blocked for safety."


class FakeGemini(FakeProvider):
    """Answers `POST …:generateContent`: a safety block first, then an inline PNG; counts the calls."""

    def answer(self, path: str) -> dict | None:
        if not path.split("?")[0].endswith(":generateContent"):
            return None
        if self.record(path) == 1:
            return {
                "promptFeedback": {"blockReason": "SAFETY", "blockReasonMessage": BLOCKED},
                "modelVersion": "gemini-3.1-flash-image",
            }
        data = base64.b64encode(png_bytes()).decode()
        return {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png", "data": data}}]},
                    "finishReason": "STOP",
                }
            ],
            "modelVersion": "gemini-3.1-flash-image",
        }


@pytest.fixture(scope="module")
def gemini() -> Iterator[FakeGemini]:
    with serving(FakeGemini()) as fake:
        yield fake


@pytest.fixture(scope="module")
def product_url(tmp_path_factory: pytest.TempPathFactory, gemini: FakeGemini) -> Iterator[str]:
    """This module's own product, whose Gemini is the fake (the other modules share the plain one)."""
    env = {
        "MAKEFX_GEMINI_API_KEY": "test-key",
        "MAKEFX_GEMINI_BASE_URL": gemini.url,
        "MAKEFX_PROVIDER_RETRIES": "0",
        "MAKEFX_PROVIDER_BACKOFF_SECONDS": "0",
    }
    with running_product(tmp_path_factory.mktemp("gemini-product") / "data", env) as url:
        yield url


def test_a_generation_blocked_by_the_provider_shows_why_and_completes_when_retried(
    people: People, gemini: FakeGemini, artifacts: Path
):
    ada = people("Ada")
    sign_up(ada)
    create_space(ada, "Risky")
    page = ada.page

    generate(page, name="Storm", prompt="a storm over the sea")
    preview = card(page, "Storm").locator(".card-preview")
    expect(preview).to_have_attribute("data-status", "failed", timeout=30_000)
    expect(preview).to_contain_text(BLOCKED)

    card(page, "Storm").click()
    variant = page.get_by_test_id("asset-details").get_by_test_id("variant")
    expect(variant).to_have_attribute("data-status", "failed")
    expect(variant.get_by_role("alert")).to_contain_text(f"Gemini blocked the prompt: {BLOCKED}")
    ada.screenshot(artifacts, "12-generation-failed")

    variant.get_by_role("button", name="Retry").click()
    wait_until_picture_loads(page, card(page, "Storm").locator("img.card-preview"), timeout=30_000)
    expect(variant).to_have_attribute("data-status", "completed")
    expect(variant.get_by_role("button", name="Retry")).to_have_count(0)
    assert len(gemini.calls) == 2, gemini.calls
    assert all(call.split("?")[0].endswith("gemini-3.1-flash-image:generateContent") for call in gemini.calls)
    ada.screenshot(artifacts, "13-generation-retried")
