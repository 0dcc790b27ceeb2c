"""Metered usage (`fx.usage.events`) and the questions billing answers about it (`fx.billing.*`).

A `UsageRecorded` event is published by whoever spent something (a generation worker,
the chat service) through the `USAGE` stream with `Nats-Msg-Id` = its `id`. The id is
deterministic — `<variantId>:<attempt>` for a generation, `<messageId>` for a chat turn —
so re-deriving an event after a crash never bills twice: the stream drops it within its
duplicate window, billing's ledger forever after, and Polar by `external_id`.

Quantities are in the kind's own unit (images, seconds, tokens); `credits` is the price in
the one unit budgets are set in, taken from the model registry's cost.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from makefx_contracts.base import Message, Model, Request, Subject
from makefx_contracts.errors import QuotaExceeded
from makefx_contracts.subjects import BILLING, USAGE_EVENTS

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
# `<variantId>:<attempt>`: a colon is allowed (it is a header value and a column, never a subject token).
UsageId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_:.-]{1,200}$")]
Millis = Annotated[int, Field(ge=0, description="milliseconds since the epoch")]


class UsageKind(StrEnum):
    """What was spent; also the event name in Polar, where meters filter on it."""

    GENERATION_IMAGE = "generation.image"
    GENERATION_VIDEO = "generation.video"
    GENERATION_AUDIO = "generation.audio"
    CHAT_TOKENS = "chat.tokens"


class UsageRecorded(Message):
    """One metered use of a provider, attributed to the user who asked and the space it was for."""

    type: Literal["usage:recorded"] = "usage:recorded"
    subject: ClassVar[Subject] = USAGE_EVENTS
    id: UsageId = Field(description="deterministic: <variantId>:<attempt> for a generation; the dedupe key everywhere")
    user_id: Id
    space_id: Id
    kind: UsageKind
    quantity: float = Field(ge=0, description="in `unit`: images, seconds of media, tokens")
    unit: Annotated[str, Field(min_length=1, max_length=32)]
    credits: float = Field(default=0, ge=0, description="the price of this use in budget credits")
    model: Annotated[str, Field(min_length=1, max_length=128)]
    provider: Annotated[str, Field(min_length=1, max_length=64)]
    at: Millis


# -- usage summaries --------------------------------------------------------------------


class UsageByKind(Model):
    kind: UsageKind
    unit: str
    quantity: float
    credits: float
    events: int


class UsageSummary(Message):
    """Usage in `[since, until)`, one line per kind (and unit), for a user, a space or both."""

    type: Literal["billing:usage"] = "billing:usage"
    user_id: str | None
    space_id: str | None
    since: Millis
    until: Millis
    credits: float = Field(description="the sum of every line's credits")
    events: int
    by_kind: list[UsageByKind] = Field(default_factory=list)


class GetUsage(Request[UsageSummary]):
    """Usage of a user, a space, or a user within a space, over `[since, until)`.

    The caller has already decided the asker may see it (the gateway: the user themself,
    or a space's owner).
    """

    type: Literal["billing:getUsage"] = "billing:getUsage"
    subject: ClassVar[Subject] = BILLING.bind(op="usage")
    user_id: Id | None = None
    space_id: Id | None = None
    since: Millis
    until: Millis
    kinds: list[UsageKind] | None = Field(default=None, description="only these kinds; all when omitted")

    @model_validator(mode="after")
    def _is_answerable(self) -> GetUsage:
        if self.user_id is None and self.space_id is None:
            raise ValueError("give userId, spaceId or both")
        if self.until <= self.since:
            raise ValueError("until must be after since")
        return self


# -- per-space monthly budget -----------------------------------------------------------


class SpaceBudget(Message):
    """A space's monthly budget in credits (None: unlimited) and what this calendar month (UTC) spent."""

    type: Literal["billing:spaceBudget"] = "billing:spaceBudget"
    space_id: str
    monthly_credits: float | None
    spent_credits: float
    month_start: Millis


class GetSpaceBudget(Request[SpaceBudget]):
    type: Literal["billing:getSpaceBudget"] = "billing:getSpaceBudget"
    subject: ClassVar[Subject] = BILLING.bind(op="budget")
    space_id: Id


class SetSpaceBudget(Request[SpaceBudget]):
    """Set (or, with None, remove) a space's monthly budget; the caller checked the asker owns the space."""

    type: Literal["billing:setSpaceBudget"] = "billing:setSpaceBudget"
    subject: ClassVar[Subject] = BILLING.bind(op="setBudget")
    space_id: Id
    monthly_credits: float | None = Field(ge=0)


class BudgetVerdict(Message):
    """Whether spending `requested` credits more this month keeps the space within its budget."""

    type: Literal["billing:budgetVerdict"] = "billing:budgetVerdict"
    space_id: str
    allowed: bool
    requested: float
    monthly_credits: float | None
    spent_credits: float
    month_start: Millis

    def raise_if_refused(self) -> None:
        """The fail-fast path of a generation: a clear `QUOTA_EXCEEDED` before any provider is called."""
        if self.allowed:
            return
        raise QuotaExceeded(
            f"this space's monthly budget of {self.monthly_credits:g} credits would be exceeded: "
            f"{self.spent_credits:g} spent this month, {self.requested:g} more asked",
            details={
                "spaceId": self.space_id,
                "monthlyCredits": self.monthly_credits,
                "spentCredits": self.spent_credits,
                "requestedCredits": self.requested,
                "monthStart": self.month_start,
            },
        )


class CheckBudget(Request[BudgetVerdict]):
    """Asked before a generation calls any provider, with the price it is about to spend."""

    type: Literal["billing:checkBudget"] = "billing:checkBudget"
    subject: ClassVar[Subject] = BILLING.bind(op="checkBudget")
    space_id: Id
    credits: float = Field(ge=0)
