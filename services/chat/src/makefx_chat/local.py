"""The `local` assistant: answers without a model, deterministically, from the space as the owner sent it.

Used when no Anthropic key is configured, so the whole chat flow (deltas, the reply,
approvals, usage) works on a laptop and in tests. It describes the space (assets by media
kind, their names), and in actor mode turns a few plain phrases into the same tool calls
Claude would propose: "generate an image of a fox in the snow" → `generate`, "rename Fox
to Vixen" → `rename_asset`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from makefx_chat.assistant import Answer, Conversation, ProposedCall, TextSink
from makefx_chat.prompt import estimate_tokens
from makefx_contracts.rows import AssetRow, ChatMode, MediaKind

PROVIDER = "local"
MODEL = "local"
_PIECES = 4
_NAMES_SHOWN = 5

_KINDS = {
    **dict.fromkeys(("image", "picture", "photo", "illustration", "drawing"), (MediaKind.IMAGE, "image")),
    **dict.fromkeys(("sound effect", "sound", "sfx", "audio"), (MediaKind.AUDIO, "sfx")),
    **dict.fromkeys(("music", "song", "track", "tune"), (MediaKind.AUDIO, "music")),
    **dict.fromkeys(("speech", "voice line", "voice"), (MediaKind.AUDIO, "speech")),
    **dict.fromkeys(("video", "clip", "animation"), (MediaKind.VIDEO, "scene")),
}
_GENERATE = re.compile(
    r"\b(?:generate|make|create|draw|render|compose|produce)\s+(?:me\s+)?(?:an?\s+|some\s+|the\s+)?"
    r"(?P<kind>" + "|".join(sorted(map(re.escape, _KINDS), key=len, reverse=True)) + r")\s+"
    r"(?:of|for|with|showing|about)\s+(?P<prompt>.+)",
    re.IGNORECASE | re.DOTALL,
)
_RENAME = re.compile(
    r"\brename\s+(?:the\s+)?(?:asset\s+)?(?P<old>.+?)\s+(?:to|as)\s+(?P<new>.+?)\s*[.!?]*\s*$",
    re.IGNORECASE | re.DOTALL,
)
_PLURAL = {
    MediaKind.IMAGE: ("image", "images"),
    MediaKind.AUDIO: ("sound", "sounds"),
    MediaKind.VIDEO: ("video", "videos"),
}


def _unquote(text: str) -> str:
    return text.strip().strip("\"'\u201c\u201d\u2018\u2019").strip()


def _name_from(prompt: str) -> str:
    words = re.sub(r"^(?:an?|the|some)\s+", "", prompt, flags=re.IGNORECASE).split()[:6]
    name = " ".join(words)[:60] or "Untitled"
    return name[0].upper() + name[1:]


def describe(assets: list[AssetRow]) -> str:
    """'2 images (Fox, Moon) and 1 sound (Wind)'; 'no assets yet' for an empty space."""
    if not assets:
        return "no assets yet"
    by_kind: dict[MediaKind, list[str]] = defaultdict(list)
    for asset in assets:
        by_kind[asset.media_kind].append(asset.name)
    parts = []
    for kind in (MediaKind.IMAGE, MediaKind.AUDIO, MediaKind.VIDEO):
        names = by_kind.get(kind)
        if not names:
            continue
        shown = ", ".join(names[:_NAMES_SHOWN]) + (f" and {len(names) - _NAMES_SHOWN} more" if len(names) > 5 else "")
        parts.append(f"{len(names)} {_PLURAL[kind][len(names) != 1]} ({shown})")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class LocalAssistant:
    name = PROVIDER

    async def answer(self, conversation: Conversation, on_text: TextSink) -> Answer:
        context = conversation.context
        summary = f"This space has {describe(context.assets)}."
        calls: list[ProposedCall] = []
        if conversation.mode == ChatMode.ACTOR:
            sentence, call = self._proposal(conversation.question, context.assets)
            if call is not None:
                calls.append(ProposedCall(id=f"local-{context.turn.id}-0", name=call[0], input=call[1]))
            examples = "“generate an image of a red fox” or “rename Fox to Vixen”"
            text = (
                f"{sentence} {summary}"
                if sentence
                else f"{summary} In actor mode I can propose, for example, {examples}; an editor then decides."
            )
        else:
            text = (
                f"I am the offline assistant (no Claude key is configured), so I answer from what the space holds. "
                f"{summary}"
            )
        for piece in _pieces(text):
            await on_text(piece)
        prompt = conversation.system + "".join(said.content for said in conversation.messages)
        return Answer(
            text=text,
            provider=PROVIDER,
            model=MODEL,
            input_tokens=estimate_tokens(prompt),
            output_tokens=estimate_tokens(text + "".join(str(call.input) for call in calls)),
            stop_reason="tool_use" if calls else "end_turn",
            tool_calls=calls,
        )

    def _proposal(self, question: str, assets: list[AssetRow]) -> tuple[str, tuple[str, dict[str, Any]] | None]:
        if generate := _GENERATE.search(question):
            media_kind, asset_type = _KINDS[generate["kind"].lower()]
            prompt = _unquote(generate["prompt"]).rstrip(".!?").strip()[:10_000]
            name = _name_from(prompt)
            fields = {"name": name, "assetType": asset_type, "mediaKind": media_kind.value, "prompt": prompt}
            sentence = (
                f"I propose generating the {_PLURAL[media_kind][0]} “{name}”: an editor can approve or reject it."
            )
            return sentence, ("generate", fields)
        if rename := _RENAME.search(question):
            old, new = _unquote(rename["old"]), _unquote(rename["new"])[:200]
            asset = next((asset for asset in assets if asset.name.casefold() == old.casefold()), None)
            if asset is None:
                return f"I can't find an asset named “{old}” to rename.", None
            return (
                f"I propose renaming “{asset.name}” to “{new}”: an editor can approve or reject it.",
                ("rename_asset", {"assetId": asset.id, "name": new}),
            )
        return "", None


def _pieces(text: str) -> list[str]:
    """The text in a few deltas, cut between words, as a model would stream it."""
    words = text.split(" ")
    size = max(1, -(-len(words) // _PIECES))
    chunks = [" ".join(words[start : start + size]) for start in range(0, len(words), size)]
    return [chunk + (" " if index < len(chunks) - 1 else "") for index, chunk in enumerate(chunks)]
