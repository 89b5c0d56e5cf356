"""Pure rules of schedules: when each occurrence falls, and what period it stands for.

Every schedule is read in Europe/Paris civil time (the associations' time), whatever the
server's zone: a monthly closing at 03:00 falls at 03:00 in Paris in winter and in summer,
i.e. at 02:00 UTC, then 01:00 UTC. On the spring-forward day a time that does not exist
(02:30) falls one hour later by the wall clock (the instant 02:30 would have been before the
change); on the fall-back day an ambiguous time falls at its first occurrence. Either way
each civil day gives exactly one occurrence, which is what "each period runs exactly once"
counts on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from services.ledger.schedules.errors import InvalidSchedule

PARIS = ZoneInfo("Europe/Paris")
TIME_ZONE = "Europe/Paris"


class Operation(StrEnum):
    """The operator acts a schedule may run."""

    DEMURRAGE = "demurrage"
    VOUCHER_EXPIRY = "voucher_expiry"
    HOLD_EXPIRY = "hold_expiry"
    CLOSING = "closing"
    RESERVE_RECONCILIATION = "reserve_reconciliation"
    """A reminder, not a correction: the ledger's own figures (circulation, reserve) are
    recorded and announced so the operator compares them with the bank's statement
    (``GET …/reconciliation``); only the operator knows the bank's balance."""


class Cadence(StrEnum):
    """Daily; weekly on Mondays; monthly on the 1st: the day after each period ends."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Outcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"
    """Nothing to do for that occurrence (a demurrage period not over yet)."""
    FAILED = "failed"
    """A domain refusal, recorded and not retried: a later occurrence does not wait on it."""


EARLIEST_CLOSING = time(2, 0)
"""A closing closes the Paris day before its occurrence; that day must be over in UTC too
(the database's rule), which it is from 02:00 in Paris, summer or winter."""


@dataclass(frozen=True)
class Schedule:
    currency: str
    operation: Operation
    cadence: Cadence
    local_time: time
    starts_at: datetime


def check_schedule(
    operation: Operation, cadence: Cadence, local_time: time, *, has_fund: bool
) -> None:
    """Refuse a schedule its operation could not run."""
    if local_time.tzinfo is not None or local_time.second or local_time.microsecond:
        raise InvalidSchedule("l'heure est une heure locale de Paris, en heures et minutes")
    if operation is Operation.CLOSING and local_time < EARLIEST_CLOSING:
        raise InvalidSchedule(
            "une clôture planifiée a lieu à 02:00 (heure de Paris) ou plus tard, quand la "
            "veille est finie aussi en UTC",
            earliest=EARLIEST_CLOSING.strftime("%H:%M"),
        )
    if (operation is Operation.DEMURRAGE) != has_fund:
        raise InvalidSchedule(
            "fund_account_id est requis pour la fonte, et pour elle seule",
            operation=operation.value,
        )


def instant(day: date, at: time) -> datetime:
    """The UTC instant of ``at`` (Paris civil time) on ``day``; see the module's DST note."""
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def _first_day_on_or_after(cadence: Cadence, day: date) -> date:
    if cadence is Cadence.DAILY:
        return day
    if cadence is Cadence.WEEKLY:
        return day + timedelta(days=(7 - day.weekday()) % 7)
    return day if day.day == 1 else _next_day(cadence, day.replace(day=1))


def _next_day(cadence: Cadence, day: date) -> date:
    if cadence is Cadence.DAILY:
        return day + timedelta(days=1)
    if cadence is Cadence.WEEKLY:
        return day + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def occurrences(schedule: Schedule, *, after: datetime | None) -> Iterator[datetime]:
    """The schedule's occurrences, in order: from ``starts_at`` (included), strictly after
    ``after`` (the last one run) when given."""
    lower = schedule.starts_at if after is None else max(after, schedule.starts_at)
    day = _first_day_on_or_after(schedule.cadence, paris_day(lower) - timedelta(days=1))
    while True:
        moment = instant(day, schedule.local_time)
        if moment >= schedule.starts_at and (after is None or moment > after):
            yield moment
        day = _next_day(schedule.cadence, day)


def due(schedule: Schedule, *, after: datetime | None, now: datetime) -> list[datetime]:
    """Every occurrence not run yet and at or before ``now``, oldest first: after a downtime,
    each missed one, once."""
    found: list[datetime] = []
    for moment in occurrences(schedule, after=after):
        if moment > now:
            return found
        found.append(moment)
    raise AssertionError("unreachable: occurrences never end")  # pragma: no cover


def next_run(schedule: Schedule, *, after: datetime | None) -> datetime:
    """The next occurrence to run (in the past when it is overdue)."""
    return next(occurrences(schedule, after=after))


def closing_through(occurrence: datetime) -> date:
    """A closing at an occurrence closes the books through the Paris day before it: the end
    of the day, week or month that just ended."""
    return paris_day(occurrence) - timedelta(days=1)


def run_day(occurrence: datetime) -> date:
    """The Paris day an occurrence belongs to: what "today" means for the act it runs."""
    return paris_day(occurrence)
