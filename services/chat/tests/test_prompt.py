"""The turn's prompt: the space described compactly, the conversation as the API takes it, the budget kept."""

from __future__ import annotations

import json

from makefx_chat.prompt import PromptBuilder, estimate_tokens
from makefx_contracts.rows import ChatMode, ChatRole

from .spaces import asset, context, fox_space, message, variant


def prompt_tokens(built) -> int:
    return estimate_tokens(built.system) + sum(estimate_tokens(said.content) for said in built.messages)


def test_the_system_prompt_says_what_the_product_is_the_mode_and_each_asset_with_its_variant():
    built = PromptBuilder(8000).build(fox_space("What now?", ChatMode.ACTOR))

    assert built.system.startswith("You are the assistant built into Make Effects")
    assert "Mode: actor" in built.system and "approval" in built.system
    assert "The space has 3 assets (most recently changed first):" in built.system
    assert (
        '- "Moon" (asset a-moon): scene, image; variant v-moon completed from "a pale moon" (gemini-3.1-flash-image)'
        in (built.system)
    )
    assert built.mode == ChatMode.ACTOR and built.question == "What now?"


def test_an_empty_space_is_said_to_have_no_assets():
    assert "The space has no assets yet." in PromptBuilder(8000).build(context("Hi")).system


def test_messages_alternate_from_the_users_tool_outcomes_are_context_and_error_replies_are_left_out():
    history = [
        message("m-0", ChatRole.ASSISTANT, "Welcome!"),
        message("m-1", ChatRole.USER, "Make a fox"),
        message(
            "m-2",
            ChatRole.ASSISTANT,
            "I propose a fox.",
            tool_calls=json.dumps([{"id": "t1", "name": "generate", "input": {"name": "Fox"}}]),
        ),
        message("m-3", ChatRole.TOOL, "generate ran: asset Fox created", tool_call_id="t1"),
        message("m-4", ChatRole.USER, "Thanks"),
        message("m-5", ChatRole.ASSISTANT, "Claude is overloaded", metadata=json.dumps({"error": {"code": "X"}})),
    ]

    built = PromptBuilder(8000).build(context("And a moon?", history=history))

    assert [(said.role, said.content) for said in built.messages] == [
        ("user", "Make a fox"),
        ("assistant", 'I propose a fox.\n(Proposed for approval: generate {"name":"Fox"})'),
        ("user", "(Outcome of the proposed action t1: generate ran: asset Fox created)\n\nThanks\n\nAnd a moon?"),
    ]


def test_over_budget_the_oldest_messages_go_first_then_the_least_recent_assets_and_the_turn_stays():
    history = [message(f"m-{n}", ChatRole.USER if n % 2 == 0 else ChatRole.ASSISTANT, f"{n}" * 800) for n in range(10)]
    assets = [asset(f"a-{n}", f"Asset {n}") for n in range(20)]
    variants = [variant(f"v-{n}", f"a-{n}", "a prompt") for n in range(20)]
    space = context("the question", history=history, assets=assets, variants=variants)

    roomy = PromptBuilder(100_000).build(space)
    tight = PromptBuilder(2000).build(space)
    tiny = PromptBuilder(500).build(space)

    assert len(roomy.messages) == 11 and "(and" not in roomy.system
    assert prompt_tokens(tight) <= 2000 and 2 <= len(tight.messages) < len(roomy.messages)
    assert tight.messages[-1].content == "the question" and tight.messages[0].role == "user"
    assert tight.messages[-2].content == "9" * 800 and '"Asset 19"' in tight.system
    assert prompt_tokens(tiny) <= 500 and [said.content for said in tiny.messages] == ["the question"]
    assert '"Asset 0"' in tiny.system and '"Asset 19"' not in tiny.system
    assert "older ones not shown)" in tiny.system
