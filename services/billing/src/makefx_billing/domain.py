"""Billing rules: the budget month and the verdict on a spend. Pure Python, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime


def to_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s calendar month in UTC: budgets are monthly, in UTC."""
    now = now.astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def within_budget(monthly_credits: float | None, spent: float, requested: float) -> bool:
    """Unlimited without a budget; otherwise the spend must not take the month past it."""
    return monthly_credits is None or spent + requested <= monthly_credits


def retry_delay(failures: int, initial: float, maximum: float, retry_after: float | None = None) -> float:
    """Exponential backoff after `failures` consecutive failures, capped, never sooner than the server asked."""
    delay = min(maximum, initial * 2 ** max(0, failures - 1))
    return max(delay, retry_after or 0.0)
