"""The `anthropic` assistant driven through the real `anthropic` SDK against a fake Messages API server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anthropic
import pytest

from makefx_chat.assistant import AssistantFailed
from makefx_chat.claude import ClaudeAssistant, tool_definitions
from makefx_chat.prompt import PromptBuilder
from makefx_contracts.chat import TOOLS
from makefx_contracts.rows import ChatMode

from .fake_anthropic import (
    BrokenOff,
    FakeAnthropic,
    Garbage,
    ToolUse,
    invalid_request,
    overloaded,
    rate_limited,
    said,
    serving,
)
from .spaces import fox_space

MODEL = "claude-sonnet-5-5"

RENAME_ASSET_TOOL = """
{
  "name": "rename_asset",
  "description": "Rename an asset.",
  "input_schema": {
    "type": "object",
    "title": "RenameAssetInput",
    "additionalProperties": false,
    "properties": {
      "assetId": {"type": "string", "title": "Assetid"},
      "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 200}
    },
    "required": ["assetId", "name"]
  }
}
"""


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with serving(FakeAnthropic()) as server:
        yield server


def claude(fake: FakeAnthropic, *, retries: int = 2, stream: bool = True) -> ClaudeAssistant:
    client = anthropic.AsyncAnthropic(api_key=fake.api_key, base_url=fake.url, timeout=10, max_retries=retries)
    return ClaudeAssistant(client, model=MODEL, max_tokens=700, stream=stream)


class Collected:
    def __init__(self) -> None:
        self.pieces: list[str] = []

    async def __call__(self, text: str) -> None:
        self.pieces.append(text)


async def test_a_streamed_answer_passes_each_text_delta_on_and_reports_the_usage(fake: FakeAnthropic):
    fake.script(said("The space ", "has a fox ", "and a moon.", input_tokens=321, output_tokens=12))
    conversation = PromptBuilder(8000).build(fox_space("What should I make next?"))
    seen = Collected()

    answer = await claude(fake).answer(conversation, seen)

    assert seen.pieces == ["The space ", "has a fox ", "and a moon."]
    assert answer.text == "The space has a fox and a moon."
    assert (answer.provider, answer.model, answer.stop_reason) == ("anthropic", MODEL, "end_turn")
    assert (answer.input_tokens, answer.output_tokens) == (321, 12)
    assert answer.tool_calls == []


async def test_the_request_carries_the_model_the_system_prompt_with_the_space_and_the_messages_without_tools_in_advisor_mode(  # noqa: E501
    fake: FakeAnthropic,
):
    fake.script(said("Sure."))
    conversation = PromptBuilder(8000).build(fox_space("What should I make next?"))

    await claude(fake).answer(conversation, Collected())

    [request] = fake.requests
    assert request.headers["authorization"] == f"Bearer {fake.api_key}" and "anthropic-version" in request.headers
    body = request.body
    assert set(body) == {"model", "max_tokens", "system", "messages", "stream"}
    assert (body["model"], body["max_tokens"], body["stream"]) == (MODEL, 700, True)
    assert body["system"] == conversation.system
    assert "Make Effects" in body["system"] and "Mode: advisor" in body["system"]
    assert (
        '- "Fox" (asset a-fox): character, image; variant v-fox completed from "a red fox in the snow"'
        in (body["system"])
    )
    assert '- "Wind" (asset a-wind): sfx, audio' in body["system"]
    assert "- v-moon -> v-fox (derived)" in body["system"]
    assert body["messages"] == [
        {"role": "user", "content": "Hi, what is in here?"},
        {"role": "assistant", "content": "A fox, a moon and some wind."},
        {"role": "user", "content": "What should I make next?"},
    ]


async def test_in_actor_mode_the_tools_are_sent_and_tool_use_blocks_come_back_as_proposed_calls(fake: FakeAnthropic):
    generate = {"name": "Owl", "assetType": "character", "mediaKind": "image", "prompt": "a snowy owl at night"}
    rename = {"assetId": "a-fox", "name": "Vixen"}
    fake.script(
        said(
            "I propose an owl and a new name.",
            tools=(ToolUse("toolu_01", "generate", generate), ToolUse("toolu_02", "rename_asset", rename)),
        )
    )
    conversation = PromptBuilder(8000).build(fox_space("Add an owl and call the fox Vixen", ChatMode.ACTOR))

    answer = await claude(fake).answer(conversation, Collected())

    body = fake.requests[0].body
    assert "Mode: actor" in body["system"]
    assert body["tools"] == tool_definitions()
    assert [tool["name"] for tool in body["tools"]] == list(TOOLS)
    # One definition written out whole, as the Messages API receives it (camelCase, like the socket).
    [rename_tool] = [tool for tool in body["tools"] if tool["name"] == "rename_asset"]
    assert rename_tool == json.loads(RENAME_ASSET_TOOL)
    assert body["tools"][0]["input_schema"] == TOOLS["generate"].input_schema()
    assert "prompt" in body["tools"][0]["input_schema"]["properties"]
    assert [(call.id, call.name, call.input) for call in answer.tool_calls] == [
        ("toolu_01", "generate", generate),
        ("toolu_02", "rename_asset", rename),
    ]
    assert answer.stop_reason == "tool_use"


async def test_without_streaming_the_whole_answer_arrives_as_one_delta(fake: FakeAnthropic):
    fake.script(said("All ", "at once.", tools=(ToolUse("toolu_9", "rename_asset", {"assetId": "a", "name": "B"}),)))
    conversation = PromptBuilder(8000).build(fox_space("Rename it", ChatMode.ACTOR))
    seen = Collected()

    answer = await claude(fake, stream=False).answer(conversation, seen)

    assert "stream" not in fake.requests[0].body and fake.requests[0].body["tools"] == tool_definitions()
    assert seen.pieces == ["All at once."]
    assert answer.text == "All at once." and [call.name for call in answer.tool_calls] == ["rename_asset"]


async def test_a_429_with_retry_after_is_retried_by_the_sdk_and_then_succeeds(fake: FakeAnthropic):
    fake.script(rate_limited(retry_after=1), said("Back again."))
    seen = Collected()

    answer = await claude(fake, retries=2).answer(PromptBuilder(8000).build(fox_space("Hello?")), seen)

    assert len(fake.requests) == 2 and fake.requests[0].body == fake.requests[1].body
    assert answer.text == "Back again." and seen.pieces == ["Back again."]


async def test_a_529_that_lasts_past_the_retries_fails_with_a_sentence_saying_claude_is_overloaded(
    fake: FakeAnthropic,
):
    fake.script(overloaded())

    with pytest.raises(AssistantFailed) as failed:
        await claude(fake, retries=1).answer(PromptBuilder(8000).build(fox_space("Hello?")), Collected())

    assert len(fake.requests) == 2
    assert failed.value.code == "PROVIDER_FAILED"
    assert failed.value.message == "Claude is overloaded right now (529); try again in a minute."
    assert (failed.value.provider, failed.value.model) == ("anthropic", MODEL)


async def test_a_429_that_lasts_past_the_retries_fails_as_rate_limited(fake: FakeAnthropic):
    fake.script(rate_limited(retry_after=1))

    with pytest.raises(AssistantFailed) as failed:
        await claude(fake, retries=0).answer(PromptBuilder(8000).build(fox_space("Hello?")), Collected())

    assert len(fake.requests) == 1
    assert failed.value.code == "RATE_LIMITED"
    assert failed.value.message == "Claude is receiving too many requests right now (429); try again in a minute."


async def test_a_refused_request_is_not_retried_and_says_why(fake: FakeAnthropic):
    fake.script(invalid_request("messages: roles must alternate"))

    with pytest.raises(AssistantFailed) as failed:
        await claude(fake, retries=2).answer(PromptBuilder(8000).build(fox_space("Hello?")), Collected())

    assert len(fake.requests) == 1
    assert failed.value.message == "Claude refused the request (400: messages: roles must alternate)."


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_a_malformed_answer_fails_with_a_sentence_saying_it_could_not_be_read(fake: FakeAnthropic, stream: bool):
    fake.script(Garbage())

    with pytest.raises(AssistantFailed) as failed:
        await claude(fake, stream=stream).answer(PromptBuilder(8000).build(fox_space("Hello?")), Collected())

    assert failed.value.code == "PROVIDER_FAILED"
    assert failed.value.message == "Claude sent an answer that could not be read; try again."


async def test_a_wrong_key_fails_with_a_sentence_for_the_administrator(fake: FakeAnthropic):
    fake.script(said("never"))
    client = anthropic.AsyncAnthropic(api_key="sk-ant-wrong", base_url=fake.url, timeout=10, max_retries=2)

    with pytest.raises(AssistantFailed) as failed:
        await ClaudeAssistant(client, model=MODEL, max_tokens=10).answer(
            PromptBuilder(8000).build(fox_space("Hello?")), Collected()
        )

    assert len(fake.requests) == 1
    assert failed.value.message == "Claude refused this service's API key (401); an administrator must fix it."


async def test_an_error_event_in_the_middle_of_a_stream_is_told_by_its_type(fake: FakeAnthropic):
    fake.script(BrokenOff("overloaded_error"))
    seen = Collected()

    with pytest.raises(AssistantFailed) as failed:
        await claude(fake).answer(PromptBuilder(8000).build(fox_space("Hello?")), seen)

    assert seen.pieces == ["Half an ans"]
    assert failed.value.message == "Claude is overloaded right now (529); try again in a minute."
