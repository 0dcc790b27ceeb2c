"""The conversation and its approvals inside their transaction, and the chat queries.

A person's message is stored and broadcast (`chat:message`); the owner then queues its
`ChatTurn` (service.py). The bot's reply comes back as `PostChatReply` under its own
message id, which is also its request id, so a redelivered turn posts once. In actor mode
each tool call of a reply becomes a `pending` approval. Approving one runs its tool as the
approver's own space command, in the approval's transaction: the tool's writes are undone
(a savepoint) if it is refused, and the approval ends `executed` or `failed` with a `tool`
message telling the conversation how it went. When a variant made by an approved
`generate`/`refine` later completes or fails, another `tool` message says so, in the
transaction that ends it (`variant_ended`). See docs/decisions/0020.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from makefx_contracts.chat import reply_id, tool_command
from makefx_contracts.errors import FxError, InvalidState, NotFound, ValidationFailed
from makefx_contracts.events import (
    ApprovalCreated,
    ApprovalUpdated,
    AssetCreated,
    AssetForked,
    ChatCleared,
    ChatMessagePosted,
    SpaceEvent,
    VariantCreated,
)
from makefx_contracts.rows import (
    ApprovalRow,
    ApprovalStatus,
    AssetRow,
    ChatMessageRow,
    ChatMode,
    ChatRole,
    LineageRow,
    VariantRow,
    VariantStatus,
)
from makefx_contracts.space import (
    ApproveAction,
    ChatContext,
    ClearChat,
    GetChatContext,
    PostChatReply,
    RejectAction,
    SendChat,
    SpaceCommand,
)
from makefx_space_state import domain
from makefx_space_state.ports import SpaceTx

NewId = Callable[[], str]
Run = Callable[[SpaceTx, SpaceCommand, Any, int, NewId], None]
"""Applies a space command inside the current transaction (the service's command table)."""

M = TypeVar("M", bound=BaseModel)

REPLY_BUDGET = 768 * 1024
"""Bytes of rows one query reply may carry: NATS refuses messages over 1 MiB."""

CONTEXT_TEXT = 8_000
"""Characters of each earlier message's text shown to the bot; longer text is cut with `TRUNCATED`."""
CONTEXT_METADATA = 4_000
"""An earlier message's metadata longer than this is left out of the context (it is JSON: it can't be cut)."""
CONTEXT_LINEAGE = 200
TRUNCATED = " … [truncated]"


class Emitter(Protocol):
    """The command's events (service._Emitter), with a way back to an earlier point."""

    events: list[SpaceEvent]

    def emit(self, event_type: type[Any], **fields: Any) -> Any: ...

    def mark(self) -> int: ...

    def rewind(self, mark: int) -> None: ...


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# -- commands -----------------------------------------------------------------------------


def send_chat(tx: SpaceTx, command: SendChat, out: Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "chatting with the bot")
    message = ChatMessageRow(
        id=ids(),
        role=ChatRole.USER,
        mode=command.mode,
        content=command.content,
        created_by=command.actor.user_id,
        created_at=now,
    )
    tx.put_chat_message(message)
    out.emit(ChatMessagePosted, message=message)


def clear_chat(tx: SpaceTx, command: ClearChat, out: Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "clearing the conversation")
    tx.clear_chat()
    out.emit(ChatCleared)


def post_chat_reply(tx: SpaceTx, command: PostChatReply, out: Emitter, now: int, ids: NewId) -> None:
    """The bot's answer; sent by the chat service on behalf of `command.actor`, who asked."""
    asked = tx.chat_message(command.reply_to)
    if asked is None or asked.role is not ChatRole.USER:
        # Also when the conversation was cleared while the bot was thinking: nothing to answer.
        raise NotFound(
            f"message {command.reply_to} is not a person's message of this conversation",
            details={"messageId": command.reply_to},
        )
    if tx.chat_message(command.message_id) is not None:
        return  # posted already (by a request whose id has been forgotten since)
    calls = command.tool_calls
    if calls and asked.mode is not ChatMode.ACTOR:
        raise ValidationFailed(
            f"tool calls are proposed only in actor mode; message {asked.id} was sent in "
            f"{asked.mode.value if asked.mode else 'no'} mode",
            details={"messageId": asked.id, "mode": asked.mode.value if asked.mode else None},
        )
    if len({call.id for call in calls}) != len(calls):
        raise ValidationFailed("each tool call of a reply needs its own id", details={"messageId": command.message_id})
    for call in calls:
        # Checked now, so a proposal that could never run is refused to the bot, not to the approver.
        tool_command(call.name, call.input, space_id=tx.space_id, request_id=call.id, actor=command.actor)
    reply = ChatMessageRow(
        id=command.message_id,
        role=ChatRole.ASSISTANT,
        mode=asked.mode,
        content=command.content,
        tool_calls=_json([call.model_dump(mode="json") for call in calls]) if calls else None,
        metadata=_json(command.metadata) if command.metadata else None,
        created_by=None,
        created_at=now,
    )
    tx.put_chat_message(reply)
    out.emit(ChatMessagePosted, message=reply)
    for call in calls:
        approval = ApprovalRow(
            id=ids(),
            message_id=reply.id,
            tool_call_id=call.id,
            tool_name=call.name,
            tool_input=_json(call.input),
            status=ApprovalStatus.PENDING,
            created_by=command.actor.user_id,
            created_at=now,
            updated_at=now,
        )
        tx.put_approval(approval)
        out.emit(ApprovalCreated, approval=approval)


def _pending(tx: SpaceTx, approval_id: str) -> ApprovalRow:
    approval = tx.approval(approval_id)
    if approval is None:
        raise NotFound(f"approval {approval_id} does not exist in this space", details={"approvalId": approval_id})
    if approval.status is not ApprovalStatus.PENDING:
        raise InvalidState(
            f"approval {approval.id} was already {approval.status.value} by {approval.decided_by}: "
            "it can't be decided twice",
            details={"approvalId": approval.id, "status": approval.status.value, "decidedBy": approval.decided_by},
        )
    return approval


def approve_action(tx: SpaceTx, command: ApproveAction, out: Emitter, now: int, ids: NewId, *, run: Run) -> None:
    """Run the tool call as the approver's command, in this transaction; its refusal fails the approval."""
    domain.require_editor(command.actor, "approving the bot's action")
    approval = _pending(tx, command.approval_id)
    decided = approval.model_copy(
        update={
            "status": ApprovalStatus.APPROVED,
            "decided_by": command.actor.user_id,
            "decided_at": now,
            "updated_at": now,
        }
    )
    tx.put_approval(decided)
    mark = out.mark()
    try:
        with tx.savepoint():
            tool = tool_command(
                approval.tool_name,
                json.loads(approval.tool_input),
                space_id=tx.space_id,
                request_id=f"approval:{approval.id}",
                actor=command.actor,
            )
            run(tx, tool, out, now, ids)
    except FxError as error:
        out.rewind(mark)
        ended = decided.model_copy(update={"status": ApprovalStatus.FAILED, "error_message": error.message})
        outcome: dict[str, Any] = {"error": error.message, "code": error.code.value}
        text = f"{approval.tool_name} was approved by {command.actor.user_id} but failed: {error.message}"
    else:
        result = _result(tool, out.events[mark:])
        ended = decided.model_copy(update={"status": ApprovalStatus.EXECUTED, "result": _json(result)})
        outcome = {"result": result}
        done = ", ".join(f"{key} {value}" for key, value in result.items())
        text = f"{approval.tool_name} was approved by {command.actor.user_id} and done" + (f": {done}" if done else "")
    tx.put_approval(ended)
    out.emit(ApprovalUpdated, approval=ended)
    message = ChatMessageRow(
        id=ids(),
        role=ChatRole.TOOL,
        content=text,
        tool_call_id=approval.tool_call_id,
        metadata=_json(
            {"approvalId": approval.id, "toolName": approval.tool_name, "status": ended.status.value, **outcome}
        ),
        created_by=command.actor.user_id,
        created_at=now,
    )
    tx.put_chat_message(message)
    out.emit(ChatMessagePosted, message=message)


def _result(tool: SpaceCommand, events: Sequence[SpaceEvent]) -> dict[str, str]:
    """What the tool made or changed: the asset named by the call, or else the one created; the new variant."""
    result: dict[str, str] = {}
    named = getattr(tool, "asset_id", None)
    if isinstance(named, str):
        result["assetId"] = named
    for event in events:
        match event:
            case AssetCreated(asset=asset):
                result.setdefault("assetId", asset.id)
            case AssetForked(asset=asset, variant=variant):
                result.setdefault("assetId", asset.id)
                result.setdefault("variantId", variant.id)
            case VariantCreated(variant=variant):
                result.setdefault("assetId", variant.asset_id)
                result.setdefault("variantId", variant.id)
    return result


GENERATING_TOOLS = frozenset({"generate", "refine"})
"""Tools whose variant is made later, by a generation job: its end is told to the conversation."""


def variant_ended(tx: SpaceTx, out: Emitter, variant: VariantRow, asset: AssetRow, now: int, ids: NewId) -> None:
    """Tell the conversation how the generation an approval started ended (called as the variant ends).

    Only for a variant made by an executed `generate`/`refine` approval whose conversation was
    not cleared since (its `message_id` is then NULL: nobody is left to tell). A retried variant
    that ends again is told again.
    """
    approval = tx.approval_naming_variant(variant.id)
    if (
        approval is None
        or approval.tool_name not in GENERATING_TOOLS
        or approval.status is not ApprovalStatus.EXECUTED
        or approval.message_id is None
    ):
        return
    generated = approval.tool_name == "generate"
    outcome: dict[str, Any] = {}
    if variant.status is VariantStatus.COMPLETED:
        made = f"The {variant.media_kind.value}" if generated else f"The new variant of the {variant.media_kind.value}"
        text = f"{made} '{asset.name}' is ready."
    else:
        reason = variant.error_message or "no reason was given"
        text = f"The {'generation' if generated else 'refinement'} of '{asset.name}' failed: {reason}"
        outcome["error"] = reason
    message = ChatMessageRow(
        id=ids(),
        role=ChatRole.TOOL,
        content=text,
        tool_call_id=approval.tool_call_id,
        metadata=_json(
            {
                "approvalId": approval.id,
                "toolName": approval.tool_name,
                "assetId": asset.id,
                "variantId": variant.id,
                "variantStatus": variant.status.value,
                **outcome,
            }
        ),
        created_by=approval.decided_by,
        created_at=now,
    )
    tx.put_chat_message(message)
    out.emit(ChatMessagePosted, message=message)


def reject_action(tx: SpaceTx, command: RejectAction, out: Emitter, now: int, ids: NewId) -> None:
    domain.require_editor(command.actor, "rejecting the bot's action")
    approval = _pending(tx, command.approval_id)
    rejected = approval.model_copy(
        update={
            "status": ApprovalStatus.REJECTED,
            "decided_by": command.actor.user_id,
            "decided_at": now,
            "updated_at": now,
        }
    )
    tx.put_approval(rejected)
    out.emit(ApprovalUpdated, approval=rejected)


def commands(run: Run) -> dict[type, Callable[..., None]]:
    """The chat commands; `run` is how an approved tool call is applied (the service's own command table)."""
    return {
        SendChat: send_chat,
        ClearChat: clear_chat,
        PostChatReply: post_chat_reply,
        ApproveAction: functools.partial(approve_action, run=run),
        RejectAction: reject_action,
    }


# -- queries --------------------------------------------------------------------------------


def _size(row: BaseModel) -> int:
    return len(row.model_dump_json().encode()) + 1


def _within(rows: Sequence[M], budget: int) -> list[M]:
    """The leading rows whose JSON fits in `budget` bytes (at least the first one)."""
    kept: list[M] = []
    for row in rows:
        budget -= _size(row)
        if budget < 0 and kept:
            break
        kept.append(row)
    return kept


def history(tx: SpaceTx, *, limit: int, before: int | None) -> list[ChatMessageRow]:
    """The newest `limit` messages before `before`, oldest first; fewer when they would not fit in one reply
    (the client pages on with `before` = the oldest one's `created_at`)."""
    newest_first = list(reversed(tx.chat_history(limit, before)))
    return list(reversed(_within(newest_first, REPLY_BUDGET)))


def approval_list(tx: SpaceTx, *, status: ApprovalStatus | None) -> list[ApprovalRow]:
    """Approvals in `status`, oldest first; the newest ones when all would not fit in one reply."""
    return list(reversed(_within(tx.approvals(status), REPLY_BUDGET)))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + TRUNCATED


def _for_context(message: ChatMessageRow) -> ChatMessageRow:
    metadata = message.metadata if message.metadata is None or len(message.metadata) <= CONTEXT_METADATA else None
    content = _cut(message.content, CONTEXT_TEXT)
    if content == message.content and metadata == message.metadata:
        return message
    return message.model_copy(update={"content": content, "metadata": metadata})


def _variant_for_context(variant: VariantRow) -> VariantRow:
    # What the variant is, not the provider's raw answer: those can be long and say nothing to the bot.
    return variant.model_copy(update={"provider_metadata": None, "generation_provenance": None})


def context(tx: SpaceTx, query: GetChatContext) -> ChatContext:
    """What the bot is shown when it answers `query.message_id`, bounded to one NATS reply.

    The turn's own message is whole (a person's message is at most 20,000 characters), and
    so is the metadata of the bot's reply to it when that is already stored (`reply`, its
    text cut like the others): a turn delivered again is then not answered again.
    Earlier messages: the newest `max_messages` before the turn, oldest first, each text cut
    to `CONTEXT_TEXT` characters (marked `TRUNCATED`) and a long metadata left out, and no
    more than half of `REPLY_BUDGET` (the oldest are dropped). Assets: the live ones most
    recently changed first, up to `max_assets`, each with its active variant (else its
    newest) without provider metadata and provenance, as many as fit in what is left of the
    budget after a share for the lineage. Lineage: unsevered links among those variants,
    newest first, at most `CONTEXT_LINEAGE`.
    """
    turn = tx.chat_message(query.message_id)
    if turn is None:
        raise NotFound(
            f"message {query.message_id} is not in this conversation", details={"messageId": query.message_id}
        )
    reply = tx.chat_message(reply_id(turn.id))
    if reply is not None:
        # Whole metadata: the chat service meters the turn again from it instead of asking the model again.
        reply = reply.model_copy(update={"content": _cut(reply.content, CONTEXT_TEXT)})
    budget = REPLY_BUDGET - _size(turn) - (_size(reply) if reply is not None else 0)
    earlier = [_for_context(message) for message in tx.messages_before(turn, query.max_messages)]
    messages = list(reversed(_within(list(reversed(earlier)), budget // 2))) if earlier else []
    budget -= sum(_size(message) for message in messages)
    lineage_share = min(budget // 4, 64 * 1024)
    budget -= lineage_share
    assets: list[AssetRow] = []
    variants: list[VariantRow] = []
    for asset in tx.recent_assets(query.max_assets):
        shown = tx.shown_variant(asset)
        shown = _variant_for_context(shown) if shown is not None else None
        cost = _size(asset) + (_size(shown) if shown is not None else 0)
        if cost > budget:
            break
        budget -= cost
        assets.append(asset)
        if shown is not None:
            variants.append(shown)
    lineage: list[LineageRow] = []
    if variants:
        lineage = tx.lineage_among([variant.id for variant in variants], CONTEXT_LINEAGE)
        lineage = _within(lineage, lineage_share) if lineage else []
    return ChatContext(
        space_id=tx.space_id,
        seq=tx.last_seq(),
        turn=turn,
        reply=reply,
        messages=messages,
        assets=assets,
        variants=variants,
        lineage=lineage,
    )
