"""Schedules' pure rules: occurrences in Europe/Paris civil time across both DST changes,
catch-up lists, and what a schedule may ask."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from services.ledger.schedules.errors import InvalidSchedule
from services.ledger.schedules.rules import (
    Cadence,
    Operation,
    Schedule,
    check_schedule,
    closing_through,
    due,
    next_run,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def schedule(cadence: Cadence, at: time, starts_at: datetime) -> Schedule:
    return Schedule("GONETTE", Operation.CLOSING, cadence, at, starts_at)


def test_daily_at_a_time_the_spring_change_skips_runs_once_that_day_an_hour_later() -> None:
    # 2026-03-29: Paris goes from 02:00 CET straight to 03:00 CEST; 02:30 does not exist.
    daily = schedule(Cadence.DAILY, time(2, 30), utc(2026, 3, 27))
    assert due(daily, after=None, now=utc(2026, 3, 30, 12)) == [
        utc(2026, 3, 27, 1, 30),  # 02:30 CET
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 30),  # 03:30 CEST on the wall clock: once, not skipped
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
    ]


def test_daily_at_a_time_the_autumn_change_repeats_runs_once_at_its_first_occurrence() -> None:
    # 2026-10-25: Paris goes back from 03:00 CEST to 02:00 CET; 02:30 happens twice.
    daily = schedule(Cadence.DAILY, time(2, 30), utc(2026, 10, 24))
    assert due(daily, after=None, now=utc(2026, 10, 26, 12)) == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),  # the first 02:30 (CEST); the second one is not a new day
        utc(2026, 10, 26, 1, 30),
    ]


def test_monthly_on_the_first_follows_paris_time_winter_and_summer() -> None:
    monthly = schedule(Cadence.MONTHLY, time(3, 0), utc(2026, 1, 15))
    assert due(monthly, after=None, now=utc(2026, 7, 1, 0, 59)) == [
        utc(2026, 2, 1, 2),
        utc(2026, 3, 1, 2),
        utc(2026, 4, 1, 1),
        utc(2026, 5, 1, 1),
        utc(2026, 6, 1, 1),
    ]
    # 03:00 in Paris on July 1st is 01:00 UTC: due at 02:00 UTC.
    assert due(monthly, after=utc(2026, 6, 1, 1), now=utc(2026, 7, 1, 2)) == [utc(2026, 7, 1, 1)]
    assert next_run(monthly, after=utc(2026, 7, 1, 1)) == utc(2026, 8, 1, 1)


def test_monthly_crosses_the_year_and_weekly_falls_on_mondays() -> None:
    monthly = schedule(Cadence.MONTHLY, time(4, 0), utc(2026, 11, 2))
    assert due(monthly, after=None, now=utc(2027, 2, 1, 3)) == [
        utc(2026, 12, 1, 3),
        utc(2027, 1, 1, 3),
        utc(2027, 2, 1, 3),
    ]
    weekly = schedule(Cadence.WEEKLY, time(6, 0), utc(2026, 12, 2))  # a Wednesday
    found = due(weekly, after=None, now=utc(2026, 12, 22))
    assert found == [utc(2026, 12, 7, 5), utc(2026, 12, 14, 5), utc(2026, 12, 21, 5)]
    assert {moment.weekday() for moment in found} == {0}


def test_catch_up_lists_each_missed_occurrence_once_and_nothing_already_run() -> None:
    daily = schedule(Cadence.DAILY, time(4, 0), utc(2026, 12, 1, 3))
    first = due(daily, after=None, now=utc(2026, 12, 3, 12))
    assert first == [utc(2026, 12, 1, 3), utc(2026, 12, 2, 3), utc(2026, 12, 3, 3)]
    assert due(daily, after=first[-1], now=utc(2026, 12, 3, 12)) == []
    # a downtime of three days: the three missed ones, in order, then nothing
    later = due(daily, after=first[-1], now=utc(2026, 12, 6, 3))
    assert later == [utc(2026, 12, 4, 3), utc(2026, 12, 5, 3), utc(2026, 12, 6, 3)]
    assert next_run(daily, after=later[-1]) == utc(2026, 12, 7, 3)
    # the start instant itself counts; an occurrence before it does not
    assert due(daily, after=None, now=utc(2026, 12, 1, 3)) == [utc(2026, 12, 1, 3)]
    assert due(daily, after=None, now=utc(2026, 12, 1, 2, 59)) == []


def test_a_closing_closes_the_paris_day_before_its_occurrence() -> None:
    assert closing_through(utc(2026, 6, 1, 1)) == date(2026, 5, 31)  # 03:00 in Paris
    assert closing_through(utc(2026, 5, 31, 22, 30)) == date(2026, 5, 31)  # 00:30 June 1st


def test_what_a_schedule_may_ask() -> None:
    check_schedule(Operation.CLOSING, Cadence.MONTHLY, time(2, 0), has_fund=False)
    with pytest.raises(InvalidSchedule) as early:
        check_schedule(Operation.CLOSING, Cadence.MONTHLY, time(1, 59), has_fund=False)
    assert early.value.extra["earliest"] == "02:00"
    check_schedule(Operation.DEMURRAGE, Cadence.MONTHLY, time(1, 0), has_fund=True)
    with pytest.raises(InvalidSchedule):
        check_schedule(Operation.DEMURRAGE, Cadence.MONTHLY, time(4, 0), has_fund=False)
    with pytest.raises(InvalidSchedule):
        check_schedule(Operation.HOLD_EXPIRY, Cadence.DAILY, time(4, 0), has_fund=True)
    with pytest.raises(InvalidSchedule):
        check_schedule(Operation.HOLD_EXPIRY, Cadence.DAILY, time(4, 0, 30), has_fund=False)
