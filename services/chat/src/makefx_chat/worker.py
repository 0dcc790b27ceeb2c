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
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import TypeAdapter

from makefx_bus import Bus
from makefx_bus.codec import decode
from makefx_chat.assistant import Answer, Assistant, AssistantFailed, ProposedCall
from makefx_chat.prompt import PromptBuilder
from makefx_chat.settings import ChatSettings
from makefx_contracts import FxError
from makefx_contracts.chat import ChatDelta, ChatTurn, reply_id, tool_command
from makefx_contracts.errors import InvalidMessage, InvalidState, NotFound, ValidationFailed
from makefx_contracts.rows import ChatMessageRow, ChatMode
from makefx_contracts.space import ChatContext, GetChatContext, PostChatReply, ToolCall
from makefx_contracts.subjects import CHAT_DELTAS, CHAT_REQUESTS, STREAM_CHAT
from makefx_contracts.usage import UsageKind, UsageRecorded
from makefx_router import SpaceRouter

log = logging.getLogger(__name__)

_TURN: TypeAdapter[ChatTurn] = TypeAdapter(ChatTurn)
_FETCH_WAIT_SECONDS = 1.0
_MAX_TOOL_CALLS = 16
_UNPOSTED = 256
_GONE = (NotFound, InvalidState)
"""The owner's answer when the turn is no longer there to answer (the conversation was cleared)."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Retry(Exception):
    """The space's owner could not be reached: hand the turn back for a later delivery."""


class TurnWorker:
    def __init__(self, bus: Bus, router: SpaceRouter, assistant: Assistant, settings: ChatSettings) -> None:
        self.bus = bus
        self.router = router
        self.assistant = assistant
        self.settings = settings
        self.prompts = PromptBuilder(settings.chat_context_tokens)
        self._subscription: Any = None
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(settings.turns_concurrency)
        # Answers the owner has not yet taken, by reply id: a turn handed back is not paid for twice here.
        self._unposted: OrderedDict[str, Answer] = OrderedDict()
        # Turns being answered here, by reply id, with how many copies hold or wait for the lock: a copy
        # of a turn fetched while it is being answered waits for that answer, then finds it stored.
        self._answering: dict[str, tuple[asyncio.Lock, int]] = {}

    @property
    def is_consuming(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- consuming ----------------------------------------------------------------------

    async def start(self) -> None:
        settings = self.settings
        config = ConsumerConfig(
            durable_name=settings.turns_durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=settings.turns_ack_wait_seconds,
            max_deliver=settings.turns_max_deliver,
            max_ack_pending=max(1000, settings.turns_concurrency * 4),
            filter_subject=CHAT_REQUESTS.fill(),
        )
        self._subscription = await self.bus.js.pull_subscribe(
            CHAT_REQUESTS.fill(), durable=settings.turns_durable, stream=STREAM_CHAT, config=config
        )
        self._task = asyncio.create_task(self._run(), name="chat-turns")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # Turns in flight are left unacknowledged: JetStream redelivers them to another worker.
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        if self._subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._subscription.unsubscribe()
            self._subscription = None

    async def _run(self) -> None:
        while True:
            await self._slots.acquire()
            free = 1
            while free < self.settings.turns_concurrency and not self._slots.locked():
                await self._slots.acquire()
                free += 1
            try:
                messages = await self._subscription.fetch(free, timeout=_FETCH_WAIT_SECONDS)
            except nats.errors.TimeoutError:
                messages = []
            except nats.errors.Error as error:
                log.warning("fetching chat turns failed: %s", error)
                messages = []
                await asyncio.sleep(1)
            for _ in range(free - len(messages)):
                self._slots.release()
            for message in messages:
                task = asyncio.create_task(self._handle_in_slot(message))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _handle_in_slot(self, message: Msg) -> None:
        try:
            await self.on_turn_message(message)
        except Exception:
            log.exception("a chat turn failed unexpectedly; it will be redelivered")
        finally:
            self._slots.release()

    async def on_turn_message(self, message: Msg) -> None:
        try:
            turn = decode(_TURN, message.data)
        except InvalidMessage as error:
            log.error("terminating a chat turn that does not match its contract: %s", error.details)
            await message.term()
            return
        delivered = message.metadata.num_delivered or 1
        alive = asyncio.create_task(self._keep_alive(message))
        try:
            await self.run(turn)
        except _Retry as error:
            if delivered >= self.settings.turns_max_deliver:
                log.error("turn %s: %s; giving up after %d deliveries", turn.message_id, error, delivered)
                await message.term()
                return
            backoff = self.settings.turns_backoff_seconds or [1.0]
            delay = backoff[min(delivered, len(backoff)) - 1]
            log.warning("turn %s: %s; delivery %d, again in %.0fs", turn.message_id, error, delivered, delay)
            await message.nak(delay=delay)
            return
        finally:
            alive.cancel()
        await message.ack_sync()

    async def _keep_alive(self, message: Msg) -> None:
        # A long answer is still being written: reset JetStream's ack timer well before it runs out.
        while True:
            await asyncio.sleep(self.settings.turns_ack_wait_seconds / 3)
            with contextlib.suppress(nats.errors.Error):
                await message.in_progress()

    # -- one turn -------------------------------------------------------------------------

    async def run(self, turn: ChatTurn) -> None:
        """Answer one turn to its stored reply and usage event; raises `_Retry` when it should come again."""
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
            raise _Retry(f"{type(error).__name__}: {error}") from error

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
