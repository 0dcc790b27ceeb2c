"""The prompt of one turn: what the product is, the mode, the space compactly, and the conversation.

Everything is bounded by a token budget, estimated at ~4 characters a token (good enough
for English and JSON-ish text; the model's real count comes back as usage). Over budget,
the oldest messages go first, then the oldest lineage links (the owner sends the newest first), then the least recently
changed assets; the turn itself always stays.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from makefx_chat.assistant import Conversation, Said
from makefx_contracts.rows import AssetRow, ChatMessageRow, ChatMode, ChatRole, LineageRow, VariantRow
from makefx_contracts.space import ChatContext

_CHARS_PER_TOKEN = 4
_PROMPT_PREVIEW = 160

PRODUCT = (
    "You are the assistant built into Make Effects, a studio where a team makes the assets of a game or a film "
    "together: images, sound (effects, music, speech) and video. They generate assets from prompts with AI models, "
    "refine variants of them, fork and organise them on a shared canvas. Be brief and concrete; refer to assets "
    "by name."
)
MODES = {
    ChatMode.ADVISOR: (
        "Mode: advisor. Answer questions and give advice about this space. You cannot change anything in it; "
        "if asked to, say what the person could do (or that actor mode lets you propose it)."
    ),
    ChatMode.ACTOR: (
        "Mode: actor. Besides answering, you may propose actions with the tools you are given. A proposal changes "
        "nothing by itself: the team sees it as an approval, and an editor approves it (it then runs as their own "
        "action) or rejects it. Propose only what was asked, use the ids listed below, and say in a sentence what "
        "you proposed."
    ),
}


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / _CHARS_PER_TOKEN)


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def asset_line(asset: AssetRow, variant: VariantRow | None) -> str:
    tags = _json(asset.tags)
    parts = [f'- "{asset.name}" (asset {asset.id}): {asset.type}, {asset.media_kind.value}']
    if isinstance(tags, list) and tags:
        parts.append(f"tags {', '.join(str(tag) for tag in tags)}")
    if variant is not None:
        described = f"variant {variant.id} {variant.status.value}"
        recipe = _json(variant.recipe)
        if isinstance(recipe, dict):
            if recipe.get("prompt"):
                described += f' from "{_clip(str(recipe["prompt"]), _PROMPT_PREVIEW)}"'
            if recipe.get("model"):
                described += f" ({recipe['model']})"
        parts.append(described)
    return "; ".join(parts)


def lineage_line(link: LineageRow) -> str:
    return f"- {link.parent_variant_id} -> {link.child_variant_id} ({link.relation_type.value})"


def said(message: ChatMessageRow) -> Said | None:
    """A stored message as the model sees it; error replies are left out (they are not the bot's words)."""
    if message.role == ChatRole.USER:
        return Said("user", message.content)
    if message.role == ChatRole.TOOL:
        return Said("user", f"(Outcome of the proposed action {message.tool_call_id or ''}: {message.content})")
    metadata = _json(message.metadata)
    if isinstance(metadata, dict) and metadata.get("error"):
        return None
    text = message.content
    calls = _json(message.tool_calls)
    if isinstance(calls, list) and calls:
        proposed = ", ".join(
            f"{call.get('name')} {json.dumps(call.get('input', {}), separators=(',', ':'))}"
            for call in calls
            if isinstance(call, dict)
        )
        text = f"{text}\n(Proposed for approval: {proposed})".strip()
    return Said("assistant", text) if text else None


def merged(messages: list[Said]) -> list[Said]:
    """Alternating roles starting with the user's, as the Messages API expects."""
    out: list[Said] = []
    for message in messages:
        if out and out[-1].role == message.role:
            out[-1] = Said(message.role, f"{out[-1].content}\n\n{message.content}")
        elif out or message.role == "user":
            out.append(message)
    return out


@dataclass(frozen=True)
class PromptBuilder:
    budget_tokens: int

    def build(self, context: ChatContext) -> Conversation:
        mode = context.turn.mode or ChatMode.ADVISOR
        history = [message for message in map(said, context.messages) if message is not None]
        turn = Said("user", context.turn.content)
        variants = {variant.asset_id: variant for variant in context.variants}
        assets = [asset_line(asset, variants.get(asset.id)) for asset in context.assets]
        links = [lineage_line(link) for link in context.lineage]

        fixed = estimate_tokens(PRODUCT) + estimate_tokens(MODES[mode]) + estimate_tokens(turn.content) + 40
        used = fixed + sum(map(_cost, history)) + sum(map(_cost, assets)) + sum(map(_cost, links))
        while used > self.budget_tokens and history:
            used -= _cost(history.pop(0))
        while used > self.budget_tokens and links:
            used -= _cost(links.pop())  # newest first: the oldest link goes
        while used > self.budget_tokens and assets:
            used -= _cost(assets.pop())

        system = "\n\n".join([PRODUCT, MODES[mode], self._space(context, assets, links)])
        return Conversation(system=system, messages=merged([*history, turn]), mode=mode, context=context)

    def _space(self, context: ChatContext, assets: list[str], links: list[str]) -> str:
        total = len(context.assets)
        if total == 0:
            return "The space has no assets yet."
        lines = [f"The space has {total} asset{'s' if total != 1 else ''} (most recently changed first):", *assets]
        if len(assets) < total:
            lines.append(f"(and {total - len(assets)} older ones not shown)")
        if links:
            lines += ["Lineage, parent variant -> child variant:", *links]
        return "\n".join(lines)


def _cost(item: Said | str) -> int:
    return estimate_tokens(item.content if isinstance(item, Said) else item) + 1
