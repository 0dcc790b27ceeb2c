"""The chat bot: a turn to answer (`fx.chat.requests`), its streamed text, and the tools it may propose.

A person's `chat:send` is stored by the space's owner, which then queues one `ChatTurn`
on the `CHAT` work queue (`Nats-Msg-Id` = the message id). The chat service answers it:
the reply's text streams on `fx.chat.deltas.<spaceId>` (core NATS; gateways relay each
`chat:delta` to the space's sockets) and the whole reply is posted back to the owner
with `PostChatReply`, under the deterministic id `reply_id(message_id)`, so a turn
redelivered after a crash is stored, broadcast and metered once.

In actor mode the bot may propose the `TOOLS` below. A proposal runs nothing: it becomes
an approval that an editor approves (it then runs as that editor's own command, built by
`tool_command`) or rejects.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError

from makefx_contracts.base import Message, Model, Subject
from makefx_contracts.errors import ValidationFailed
from makefx_contracts.rows import ChatMode
from makefx_contracts.space import (
    Actor,
    AssetChanges,
    DeleteAsset,
    DeleteAssetFields,
    ForkAsset,
    ForkAssetFields,
    GenerateFields,
    RefineFields,
    RefineVariant,
    SpaceCommand,
    StartGeneration,
    UpdateAsset,
)
from makefx_contracts.subjects import CHAT_DELTAS, CHAT_REQUESTS

_REPLY_NAMESPACE = uuid.UUID("6d1f3c1e-2b7a-4f0e-9a57-3f1f0c9a7e21")


def reply_id(message_id: str) -> str:
    """The id of the bot's reply to `message_id`: the same on every delivery of the turn (and its usage id)."""
    return uuid.uuid5(_REPLY_NAMESPACE, message_id).hex


class ChatTurn(Message):
    """A person's message to answer; the owner queues it right after storing the message."""

    type: Literal["chat:turn"] = "chat:turn"
    subject: ClassVar[Subject] = CHAT_REQUESTS
    space_id: str
    message_id: str
    mode: ChatMode
    actor: Actor = Field(description="who asked: the reply is posted, and its usage metered, on their behalf")
    at: int = Field(description="when the message was stored, milliseconds since the epoch")

    @property
    def id(self) -> str:
        """`Nats-Msg-Id`: the message id, so a turn queued twice is answered once."""
        return self.message_id


class ChatDelta(Message):
    """More of a reply's text as it streams from the model; relayed unchanged to the space's sockets.

    `index` counts the deltas of one reply from 0, so a client can spot a gap (core NATS
    may drop one); the final `chat:message` always carries the whole text.
    """

    type: Literal["chat:delta"] = "chat:delta"
    subject: ClassVar[Subject] = CHAT_DELTAS
    message_id: str
    index: int = Field(ge=0)
    text: str


# -- the tools ---------------------------------------------------------------------------


class RenameAssetInput(Model):
    asset_id: str
    name: str = Field(min_length=1, max_length=200)


class TagAssetInput(Model):
    asset_id: str
    tags: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(max_length=50)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input: type[Model]

    def input_schema(self) -> dict[str, Any]:
        """The JSON Schema of the tool's input, as the model is shown it (camelCase, like the socket)."""
        return self.input.model_json_schema(by_alias=True)


TOOLS: Mapping[str, Tool] = MappingProxyType(
    {
        tool.name: tool
        for tool in (
            Tool(
                "generate",
                "Generate a new asset (image, audio or video) from a prompt, optionally from reference variants.",
                GenerateFields,
            ),
            Tool(
                "refine", "Make a new variant of an existing asset from one of its variants and a prompt.", RefineFields
            ),
            Tool("fork", "Copy a completed variant out into a new asset.", ForkAssetFields),
            Tool("rename_asset", "Rename an asset.", RenameAssetInput),
            Tool("tag_asset", "Replace an asset's tags.", TagAssetInput),
            Tool("delete_asset", "Delete an asset (owners only).", DeleteAssetFields),
        )
    }
)
"""What the bot may propose in actor mode, by name."""


def tool_command(
    name: str, arguments: Mapping[str, Any], *, space_id: str, request_id: str, actor: Actor
) -> SpaceCommand:
    """The space command an approved tool call runs as, acting as `actor`; `ValidationFailed` if it can't be one."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ValidationFailed(f"the bot has no tool named {name!r}", details={"known": sorted(TOOLS)})
    try:
        fields = tool.input.model_validate(dict(arguments))
    except ValidationError as error:
        problems = [".".join(str(part) for part in item["loc"]) + ": " + item["msg"] for item in error.errors()]
        raise ValidationFailed(f"the {name} call's input is invalid: {'; '.join(problems)}") from None
    common = {"space_id": space_id, "request_id": request_id, "actor": actor}
    values = {field: getattr(fields, field) for field in type(fields).model_fields}
    match fields:
        case GenerateFields():
            return StartGeneration(**values, **common)
        case RefineFields():
            return RefineVariant(**values, **common)
        case ForkAssetFields():
            return ForkAsset(**values, **common)
        case RenameAssetInput():
            return UpdateAsset(asset_id=fields.asset_id, changes=AssetChanges(name=fields.name), **common)
        case TagAssetInput():
            return UpdateAsset(asset_id=fields.asset_id, changes=AssetChanges(tags=fields.tags), **common)
        case DeleteAssetFields():
            return DeleteAsset(**values, **common)
    raise AssertionError(f"tool {name} has no command")  # pragma: no cover - TOOLS and the match agree
