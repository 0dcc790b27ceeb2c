"""The worker: consumes `CHAT`, answers each turn, posts the reply to the space's owner and meters it.

A turn is acknowledged only once the owner acknowledged the `PostChatReply` and the usage
event is in `USAGE`. Both carry the reply's deterministic id (`reply_id(message_id)`), so a
turn delivered or queued again is stored, broadcast and metered once. On every delivery
the turn's context says whether its reply is already stored (`ChatContext.reply`): if so
the model is not asked again, the usage is re-published from the stored reply's metadata
(JetStream drops it as a duplicate) and the turn is acknowledged. The model failing for
good is an answer too: the reply says what happened, and the turn is acknowledged (a
redelivery would not help). When the owner cannot be reached, the turn is handed back
(`nak`) with a growing delay, and given up after the last delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from typing import Any

import nats.errors
from pydantic import TypeAdapter

from makefx_bus import Bus, Delivery, Redeliver, WorkQueueConsumer
from makefx_chat.assistant import Answer, Assistant, AssistantFailed, ProposedCall
from makefx_chat.prompt import PromptBuilder
from makefx_chat.settings import ChatSettings
from makefx_contracts import FxError
from makefx_contracts.chat import ChatDelta, ChatTurn, reply_id, tool_command
from makefx_contracts.errors import InvalidState, NotFound, ValidationFailed
from makefx_contracts.rows import ChatMessageRow, ChatMode
from makefx_contracts.space import ChatContext, GetChatContext, PostChatReply, ToolCall
from makefx_contracts.subjects import CHAT_DELTAS, CHAT_REQUESTS, STREAM_CHAT
from makefx_contracts.usage import UsageKind, UsageRecorded
from makefx_router import SpaceRouter

log = logging.getLogger(__name__)

_TURN: TypeAdapter[ChatTurn] = TypeAdapter(ChatTurn)
_MAX_TOOL_CALLS = 16
_UNPOSTED = 256
_GONE = (NotFound, InvalidState)
"""The owner's answer when the turn is no longer there to answer (the conversation was cleared)."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class TurnWorker:
    def __init__(self, bus: Bus, router: SpaceRouter, assistant: Assistant, settings: ChatSettings) -> None:
        self.bus = bus
        self.router = router
        self.assistant = assistant
        self.settings = settings
        self.prompts = PromptBuilder(settings.chat_context_tokens)
        self.consumer = WorkQueueConsumer(
            bus,
            self.on_turn,
            contract=_TURN,
            stream=STREAM_CHAT,
            subject=CHAT_REQUESTS.fill(),
            durable=settings.turns_durable,
            concurrency=settings.turns_concurrency,
            ack_wait_seconds=settings.turns_ack_wait_seconds,
            max_deliver=settings.turns_max_deliver,
            backoff_seconds=settings.turns_backoff_seconds,
            what="chat turn",
        )
        # Answers the owner has not yet taken, by reply id: a turn handed back is not paid for twice here.
        self._unposted: OrderedDict[str, Answer] = OrderedDict()
        # Turns being answered here, by reply id, with how many copies hold or wait for the lock: a copy
        # of a turn fetched while it is being answered waits for that answer, then finds it stored.
        self._answering: dict[str, tuple[asyncio.Lock, int]] = {}

    # -- consuming ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.consumer.start()

    async def stop(self) -> None:
        # Turns in flight are left unacknowledged: JetStream redelivers them to another worker.
        await self.consumer.stop()

    async def on_turn(self, turn: ChatTurn, delivery: Delivery) -> None:
        await self.run(turn)

    # -- one turn -------------------------------------------------------------------------

    async def run(self, turn: ChatTurn) -> None:
        """Answer one turn to its stored reply and usage event; raises `Redeliver` when it should come again."""
        reply = reply_id(turn.message_id)
        lock, copies = self._answering.get(reply, (asyncio.Lock(), 0))
        self._answering[reply] = (lock, copies + 1)
        try:
            async with lock:
                await self._answer_turn(turn, reply)
        finally:
            lock, copies = self._answering[reply]
            if copies == 1:
                del self._answering[reply]
            else:
                self._answering[reply] = (lock, copies - 1)

    async def _answer_turn(self, turn: ChatTurn, reply: str) -> None:
        try:
            try:
                context = await self.router.request(
                    turn.space_id,
                    GetChatContext(
                        space_id=turn.space_id,
                        message_id=turn.message_id,
                        max_messages=self.settings.chat_context_messages,
                        max_assets=self.settings.chat_context_assets,
                    ),
                )
            except _GONE as gone:
                log.info("turn %s is gone before its reply was stored: %s", turn.message_id, gone)
                spent = self._unposted.get(reply)
                if spent is not None:
                    await self._meter(turn, reply, spent)  # tokens spent on an answer nobody will read
                    self._unposted.pop(reply, None)
                return
            if context.reply is not None:
                await self._answered(turn, context.reply)
                self._unposted.pop(reply, None)
                return
            answer = self._unposted.get(reply)
            if answer is None:
                command, answer = await self._answer(turn, context, reply)
            else:
                command = self._reply(turn, reply, answer)
            self._remember(reply, answer)
            await self._store(turn, command)
            self._unposted.pop(reply, None)
            if answer is not None:
                # Spent even when the reply could not be stored (the conversation was cleared meanwhile).
                await self._meter(turn, reply, answer)
        except (FxError, nats.errors.Error, TimeoutError, OSError) as error:
            raise Redeliver(f"turn {turn.message_id}: {type(error).__name__}: {error}") from error

    async def _store(self, turn: ChatTurn, command: PostChatReply) -> None:
        """Post the reply to the owner; nothing to do when the turn is gone (the conversation was cleared)."""
        try:
            await self.router.request(turn.space_id, command)
        except ValidationFailed as refused:
            # The owner will not take a proposal as it is: store the words, and say why they come alone.
            note = f"(The proposals were left out: {refused.message})"
            alone = command.model_copy(update={"tool_calls": [], "content": f"{command.content}\n\n{note}".strip()})
            log.warning("turn %s: the owner refused the reply's proposals: %s", turn.message_id, refused.message)
            if command.tool_calls:
                await self._store(turn, alone)
        except _GONE as gone:
            log.info("turn %s was cleared before its reply was stored: %s", turn.message_id, gone)

    async def _answer(self, turn: ChatTurn, context: ChatContext, reply: str) -> tuple[PostChatReply, Answer | None]:
        conversation = self.prompts.build(context)
        index = 0

        async def stream(text: str) -> None:
            nonlocal index
            delta = ChatDelta(message_id=reply, index=index, text=text)
            index += 1
            with contextlib.suppress(nats.errors.Error, FxError):
                await self.bus.publish(delta, subject=CHAT_DELTAS.fill(space_id=turn.space_id))

        try:
            answer = await self.assistant.answer(conversation, stream)
        except AssistantFailed as failed:
            log.warning("turn %s: %s failed: %s (%s)", turn.message_id, failed.provider, failed.message, failed.code)
            metadata = {
                "model": failed.model,
                "provider": failed.provider,
                "error": {"code": failed.code, "message": failed.message},
            }
            return self._post(turn, reply, failed.message, [], metadata), None
        return self._reply(turn, reply, answer), answer

    def _reply(self, turn: ChatTurn, reply: str, answer: Answer) -> PostChatReply:
        calls, dropped = self._checked_calls(turn, answer.tool_calls)
        content = "\n\n".join(part for part in (answer.text.strip(), *dropped) if part)
        metadata = {
            "model": answer.model,
            "provider": answer.provider,
            "inputTokens": answer.input_tokens,
            "outputTokens": answer.output_tokens,
            "stopReason": answer.stop_reason,
        }
        return self._post(turn, reply, content, calls, metadata)

    def _post(
        self, turn: ChatTurn, reply: str, content: str, calls: list[ToolCall], metadata: dict[str, Any]
    ) -> PostChatReply:
        return PostChatReply(
            space_id=turn.space_id,
            request_id=reply,
            actor=turn.actor,
            reply_to=turn.message_id,
            message_id=reply,
            content=content[:100_000],
            tool_calls=calls,
            metadata=metadata,
        )

    def _checked_calls(self, turn: ChatTurn, proposed: list[ProposedCall]) -> tuple[list[ToolCall], list[str]]:
        """The calls an approval can run; a sentence for each one left out (the reader sees why)."""
        if not proposed:
            return [], []
        if turn.mode != ChatMode.ACTOR:
            return [], ["(Proposals are only made in actor mode; none was kept.)"]
        calls: list[ToolCall] = []
        dropped: list[str] = []
        for call in proposed:
            if len(calls) == _MAX_TOOL_CALLS:
                dropped.append(f"(Only {_MAX_TOOL_CALLS} proposals are kept at once; “{call.name}” was left out.)")
                continue
            try:
                tool_command(call.name, call.input, space_id=turn.space_id, request_id=call.id, actor=turn.actor)
                calls.append(ToolCall(id=call.id[:128], name=call.name, input=call.input))
            except ValidationFailed as invalid:
                dropped.append(f"(A proposed “{call.name}” was left out: {invalid.message})")
        return calls, dropped

    async def _meter(self, turn: ChatTurn, reply: str, answer: Answer) -> None:
        usage = UsageRecorded(
            id=reply,
            user_id=turn.actor.user_id,
            space_id=turn.space_id,
            kind=UsageKind.CHAT_TOKENS,
            quantity=answer.input_tokens + answer.output_tokens,
            unit="tokens",
            credits=self._credits(answer),
            model=answer.model,
            provider=answer.provider,
            at=_now_ms(),
        )
        await self.bus.persist(usage, msg_id=usage.id)

    def _credits(self, answer: Answer) -> float:
        if answer.provider == "local":
            return 0.0
        settings = self.settings
        spent = answer.input_tokens * settings.chat_credits_per_1k_input_tokens
        spent += answer.output_tokens * settings.chat_credits_per_1k_output_tokens
        return round(spent / 1000, 6)

    async def _answered(self, turn: ChatTurn, stored: ChatMessageRow) -> None:
        """The turn's reply is stored already (queued twice, or a crash after posting): publish its usage again.

        The usage event has the reply's id, so JetStream (then billing's ledger) drops it when it is in already.
        """
        answer = _answer_of(stored)
        if answer is not None:
            await self._meter(turn, stored.id, answer)
        log.info("turn %s was already answered; the model is not asked again", turn.message_id)

    def _remember(self, reply: str, answer: Answer | None) -> None:
        if answer is None:
            return
        self._unposted[reply] = answer
        self._unposted.move_to_end(reply)
        while len(self._unposted) > _UNPOSTED:
            self._unposted.popitem(last=False)


def _answer_of(stored: ChatMessageRow) -> Answer | None:
    """What the stored reply's metadata says was spent; None for an error reply (nothing was)."""
    try:
        metadata = json.loads(stored.metadata or "{}")
    except ValueError:
        return None
    if not isinstance(metadata, dict) or metadata.get("error") or "inputTokens" not in metadata:
        return None
    return Answer(
        text=stored.content,
        provider=str(metadata.get("provider") or "unknown"),
        model=str(metadata.get("model") or "unknown"),
        input_tokens=int(metadata.get("inputTokens") or 0),
        output_tokens=int(metadata.get("outputTokens") or 0),
        stop_reason=metadata.get("stopReason"),
    )
