"""Billing's pure rules: the budget month, the verdict, the backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from makefx_billing import domain


def test_the_budget_month_starts_on_the_first_at_midnight_utc() -> None:
    late_in_tokyo = datetime(2026, 12, 1, 5, 0, tzinfo=timezone(timedelta(hours=9)))  # still 30 November in UTC
    assert domain.month_start(late_in_tokyo) == datetime(2026, 11, 1, tzinfo=UTC)


def test_a_spend_is_within_budget_up_to_exactly_the_budget() -> None:
    assert domain.within_budget(None, 10**9, 1)
    assert domain.within_budget(50, 30, 20)
    assert not domain.within_budget(50, 30, 20.01)


def test_retries_back_off_exponentially_to_a_cap_and_honour_retry_after() -> None:
    assert [domain.retry_delay(n, 1, 30) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert domain.retry_delay(1, 1, 30, retry_after=45) == 45
