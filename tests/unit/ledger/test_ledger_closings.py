"""Pure rules of effective dates and period closings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.ledger.closings.errors import (
    AlreadyClosed,
    ClosingNotPast,
    EffectiveDateInFuture,
    EffectiveDateTooOld,
    PeriodClosed,
)
from services.ledger.closings.rules import check_closing, check_effective_date
from services.ledger.currencies.errors import InvalidCurrencyRules
from services.ledger.currencies.rules.currency import CurrencyKind, CurrencyRules

TODAY = date(2026, 12, 7)


def check(day: date, *, window: int = 31, closed: date | None = None) -> None:
    check_effective_date(
        effective=day,
        today=TODAY,
        currency="GONETTE",
        max_backdating_days=window,
        closed_through=closed,
    )


def test_today_and_the_window_s_first_day_are_accepted() -> None:
    check(TODAY)
    check(TODAY - timedelta(days=31))
    check(TODAY, window=0)


def test_a_future_date_is_refused() -> None:
    with pytest.raises(EffectiveDateInFuture):
        check(TODAY + timedelta(days=1))


def test_a_date_before_the_window_is_refused_with_its_first_day() -> None:
    with pytest.raises(EffectiveDateTooOld) as refused:
        check(TODAY - timedelta(days=6), window=5)
    assert refused.value.extra["earliest"] == "2026-12-02"


def test_a_date_on_or_before_the_closing_is_refused_and_the_day_after_accepted() -> None:
    closed = date(2026, 11, 30)
    for day in (closed, closed - timedelta(days=3)):
        with pytest.raises(PeriodClosed):
            check(day, closed=closed)
    check(closed + timedelta(days=1), closed=closed)


def test_a_closing_covers_a_past_period_after_the_previous_one() -> None:
    check_closing(through=TODAY - timedelta(days=1), today=TODAY, latest=None)
    check_closing(through=date(2026, 11, 30), today=TODAY, latest=date(2026, 10, 31))
    with pytest.raises(ClosingNotPast):
        check_closing(through=TODAY, today=TODAY, latest=None)
    for through in (date(2026, 10, 31), date(2026, 10, 1)):
        with pytest.raises(AlreadyClosed):
            check_closing(through=through, today=TODAY, latest=date(2026, 10, 31))


def test_the_backdating_window_is_bounded() -> None:
    assert CurrencyRules(code="GONETTE", kind=CurrencyKind.EURO_BACKED).max_backdating_days == 31
    for days in (-1, 3661):
        with pytest.raises(InvalidCurrencyRules):
            CurrencyRules(code="GONETTE", kind=CurrencyKind.EURO_BACKED, max_backdating_days=days)
