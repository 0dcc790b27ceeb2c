"""The assistant port: one answer to a conversation, streamed as it is written, and how it can fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from makefx_contracts.rows import ChatMode
from makefx_contracts.space import ChatContext


@dataclass(frozen=True)
class Said:
    """One message of the conversation as the model is shown it."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Conversation:
    """What the assistant answers: the system prompt, the messages (the turn last) and the mode.

    `context` is the space as the owner sent it, for an assistant that answers from it
    without a model (`local`).
    """

    system: str
    messages: list[Said]
    mode: ChatMode
    context: ChatContext

    @property
    def question(self) -> str:
        return self.messages[-1].content if self.messages else ""


@dataclass(frozen=True)
class ProposedCall:
    """A tool the model wants to use: becomes an approval, never runs by itself."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    text: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    stop_reason: str | None
    tool_calls: list[ProposedCall] = field(default_factory=list)


ErrorCode = Literal["PROVIDER_FAILED", "RATE_LIMITED"]


class AssistantFailed(Exception):
    """The model could not answer, for good (its SDK's retries are spent): `message` is shown to the user."""

    def __init__(self, code: ErrorCode, message: str, *, provider: str, model: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.provider = provider
        self.model = model


TextSink = Callable[[str], Awaitable[None]]
"""Told each piece of the answer's text as it arrives."""


class Assistant(Protocol):
    name: str

    async def answer(self, conversation: Conversation, on_text: TextSink) -> Answer:
        """Answer the conversation's last message, passing on text as it comes; may raise `AssistantFailed`."""
