"""Reference images reach Gemini as inline image parts, read from the store through the media service."""

from __future__ import annotations

import base64
import json

from .conftest import Stack
from .fakes import FakeServer, gemini_image, png_bytes


def inline(data: bytes, mime_type: str) -> dict:
    # google-genai 3.6 writes inline bytes URL-safe base64 under `mime_type` (the API reads either spelling).
    return {"inlineData": {"data": base64.urlsafe_b64encode(data).decode(), "mime_type": mime_type}}


async def test_a_generation_sends_its_reference_images_from_the_store_after_the_prompt(
    gemini_stack: Stack, gemini: FakeServer
):
    gemini.script(gemini_image(png_bytes(40, 30)), gemini_image(png_bytes(50, 50)), gemini_image(png_bytes(60, 60)))
    space_id, owner, _ = await gemini_stack.shared_space()
    alice = await gemini_stack.connect(space_id, owner["token"])
    fox = await alice.generate(name="Fox", assetType="character", prompt="a fox")
    hat = await alice.generate(name="Hat", assetType="item", prompt="a hat")
    assert (await alice.result(fox["variantId"]))["status"] == "completed"
    assert (await alice.result(hat["variantId"]))["status"] == "completed"

    both = await alice.generate(
        name="Fox in a hat",
        assetType="character",
        prompt="the fox wearing the hat",
        referenceVariantIds=[hat["variantId"], fox["variantId"]],
    )
    assert (await alice.result(both["variantId"]))["status"] == "completed"

    media = gemini_stack.root / "data" / "media" / "images" / space_id
    stored_hat = (media / f"{hat['variantId']}.png").read_bytes()
    stored_fox = (media / f"{fox['variantId']}.png").read_bytes()
    assert gemini.requests[-1].json()["contents"] == [
        {
            "parts": [
                {"text": "the fox wearing the hat"},
                inline(stored_hat, "image/png"),
                inline(stored_fox, "image/png"),
            ],
            "role": "user",
        }
    ]
    assert len(gemini.requests) == 3
    provenance = json.loads(alice.latest(both["variantId"])["generation_provenance"])
    assert provenance["referencesSent"] == [hat["variantId"], fox["variantId"]]
    assert provenance["referencesNotSent"] == []


async def test_a_refinement_shows_gemini_its_source_image_first(gemini_stack: Stack, gemini: FakeServer):
    gemini.script(gemini_image(png_bytes(40, 30)), gemini_image(png_bytes(50, 50)))
    space_id, owner, _ = await gemini_stack.shared_space()
    alice = await gemini_stack.connect(space_id, owner["token"])
    fox = await alice.generate(name="Fox", assetType="character", prompt="a fox")
    assert (await alice.result(fox["variantId"]))["status"] == "completed"

    refined = await alice.generate("refine:request", sourceVariantId=fox["variantId"], prompt="make it blue")
    assert (await alice.result(refined["variantId"]))["status"] == "completed"

    stored = (gemini_stack.root / "data" / "media" / "images" / space_id / f"{fox['variantId']}.png").read_bytes()
    [_, request] = gemini.requests
    assert request.json()["contents"][0]["parts"] == [{"text": "make it blue"}, inline(stored, "image/png")]
