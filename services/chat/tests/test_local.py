"""The `local` assistant: deterministic answers from the space, and tool calls from plain phrases in actor mode."""

from __future__ import annotations

import pytest

from makefx_chat.local import LocalAssistant, describe
from makefx_chat.prompt import PromptBuilder
from makefx_contracts.chat import tool_command
from makefx_contracts.identity import Role
from makefx_contracts.rows import ChatMode, MediaKind
from makefx_contracts.space import Actor, StartGeneration, UpdateAsset

from .spaces import asset, fox_space

EDITOR = Actor(user_id="u-editor", role=Role.EDITOR)


async def ask(question: str, mode: ChatMode = ChatMode.ADVISOR):
    pieces: list[str] = []

    async def collect(text: str) -> None:
        pieces.append(text)

    answer = await LocalAssistant().answer(PromptBuilder(8000).build(fox_space(question, mode)), collect)
    return answer, pieces


def test_the_space_is_described_by_media_kind_with_names():
    assert describe(fox_space("?").assets) == "2 images (Fox, Moon) and 1 sound (Wind)"
    assert describe([]) == "no assets yet"
    many = [asset(f"a{n}", f"Clip {n}", MediaKind.VIDEO) for n in range(7)]
    assert describe(many) == "7 videos (Clip 0, Clip 1, Clip 2, Clip 3, Clip 4 and 2 more)"


async def test_an_advisor_answer_summarises_the_space_in_a_few_deltas_and_counts_tokens():
    answer, pieces = await ask("What is in this space?")

    assert 2 <= len(pieces) <= 4 and "".join(pieces) == answer.text
    assert "This space has 2 images (Fox, Moon) and 1 sound (Wind)." in answer.text
    assert answer.tool_calls == [] and (answer.provider, answer.model, answer.stop_reason) == (
        "local",
        "local",
        "end_turn",
    )
    assert answer.input_tokens > 100 and answer.output_tokens > 10
    assert (await ask("What is in this space?"))[0] == answer


async def test_advisor_mode_proposes_nothing_even_when_asked_to_generate():
    answer, _ = await ask("generate an image of a red fox")

    assert answer.tool_calls == []


@pytest.mark.parametrize(
    ("question", "fields"),
    [
        (
            "Please generate an image of a red fox in the snow.",
            {
                "name": "Red fox in the snow",
                "assetType": "image",
                "mediaKind": "image",
                "prompt": "a red fox in the snow",
            },
        ),
        (
            "make a sound effect of rain on a tin roof",
            {"name": "Rain on a tin roof", "assetType": "sfx", "mediaKind": "audio", "prompt": "rain on a tin roof"},
        ),
        (
            "Create a video of waves at dusk!",
            {"name": "Waves at dusk", "assetType": "scene", "mediaKind": "video", "prompt": "waves at dusk"},
        ),
    ],
)
async def test_actor_mode_turns_a_generate_phrase_into_a_generate_call(question: str, fields: dict):
    answer, _ = await ask(question, ChatMode.ACTOR)

    [call] = answer.tool_calls
    assert (call.id, call.name, call.input) == ("local-m-turn-0", "generate", fields)
    assert answer.stop_reason == "tool_use" and "I propose generating" in answer.text
    command = tool_command(call.name, call.input, space_id="s", request_id="r", actor=EDITOR)
    assert isinstance(command, StartGeneration) and command.prompt == fields["prompt"]


async def test_actor_mode_turns_rename_of_a_named_asset_into_a_rename_call():
    answer, _ = await ask('rename "fox" to Vixen', ChatMode.ACTOR)

    [call] = answer.tool_calls
    assert (call.name, call.input) == ("rename_asset", {"assetId": "a-fox", "name": "Vixen"})
    command = tool_command(call.name, call.input, space_id="s", request_id="r", actor=EDITOR)
    assert isinstance(command, UpdateAsset) and command.changes.name == "Vixen"


async def test_renaming_an_asset_the_space_does_not_have_proposes_nothing_and_says_so():
    answer, _ = await ask("rename Badger to Brock", ChatMode.ACTOR)

    assert answer.tool_calls == [] and "I can't find an asset named “Badger”" in answer.text
