"""Demurrage (*fonte*): positive balances lose a small share per period, to speed up spending.

Formula, for one account and one period of ``D`` days (``D`` = calendar days of the period)::

    charge = floor( rate_ppm * sum_over_days( max(balance_on_day, 0) ) / (1 000 000 * D) )

i.e. the rate applied to the average positive balance, pro rata of the days it was held.
``balance_on_day`` is the balance at the end of that day; ``spans`` compress runs of days
with the same balance. Rounding is a floor: toward the member, who never pays a fraction of
a minor unit. Negative balances (mutual credit, time) are never charged: a debt is not money
held. The charge is also capped at the account's available balance when the run happens, so
demurrage can never push anyone below zero or into a held amount, even if they spent most
of their money late in the period.

Periods are calendar-aligned (``DemurragePeriod`` months counted from January 1st), so a run
is identified by (currency, period start) alone: ``period_key`` gives the idempotency key that
makes a re-run after a crash charge nobody twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from services.ledger.accounts.rules import AccountType
from services.ledger.currencies.rules.currency import PPM_DENOMINATOR, DemurragePeriod
from services.ledger.errors import InvalidPeriod
from services.ledger.transactions.errors import DuplicateAccountPosting, InvalidAmount
from services.ledger.transactions.rules import Posting, validate_transaction

_CHARGED_TYPES = frozenset({AccountType.MEMBER, AccountType.MERCHANT})
"""Only money held by people and businesses melts; operator accounts are the destination."""


@dataclass(frozen=True, slots=True)
class BalanceSpan:
    """``balance`` (end of day) held for ``days`` consecutive days of the period."""

    balance: int
    days: int


def is_charged(account_type: AccountType) -> bool:
    """True for account types whose positive balances pay demurrage."""
    return account_type in _CHARGED_TYPES


def period_bounds(period: DemurragePeriod, on: date) -> tuple[date, date]:
    """The period containing ``on``: (first day, first day of the next period)."""
    months = int(period)
    first_month = (on.month - 1) // months * months + 1
    start = date(on.year, first_month, 1)
    end_index = on.year * 12 + first_month - 1 + months
    return start, date(end_index // 12, end_index % 12 + 1, 1)


def period_days(period: DemurragePeriod, start: date) -> int:
    """Number of days of the period starting at ``start`` (which must be a period start)."""
    bounds = period_bounds(period, start)
    if bounds[0] != start:
        raise InvalidPeriod(
            f"{start.isoformat()} does not start a {period.name.lower()} period",
            period_start=start.isoformat(),
        )
    return (bounds[1] - bounds[0]).days


def period_key(currency: str, period_start: date) -> str:
    """Idempotency key of a currency's demurrage run for one period."""
    return f"demurrage:{currency}:{period_start.isoformat()}"


def account_charge_key(run_key: str, account_id: UUID) -> str:
    """Idempotency key of one account's charge within a run (for resumable runs)."""
    return f"{run_key}:{account_id}"


def balance_spans(
    *,
    opening_balance: int,
    movements: Iterable[tuple[date, int]],
    start: date,
    end: date,
) -> tuple[BalanceSpan, ...]:
    """Days at each end-of-day balance over ``[start, end)``, from the balance at ``start``.

    ``movements`` are (effective date, signed amount) within the period, in any order; a
    movement on day d counts from day d on.
    """
    if end <= start:
        raise InvalidPeriod("period end must be after its start")
    by_day: dict[date, int] = {}
    for day, amount in movements:
        if not start <= day < end:
            raise InvalidPeriod(
                f"movement on {day.isoformat()} is outside the period", day=day.isoformat()
            )
        by_day[day] = by_day.get(day, 0) + amount
    spans: list[BalanceSpan] = []
    balance, since = opening_balance, start
    for day in sorted(by_day):
        if day > since:
            spans.append(BalanceSpan(balance=balance, days=(day - since).days))
        balance, since = balance + by_day[day], day
    spans.append(BalanceSpan(balance=balance, days=(end - since).days))
    return tuple(spans)


def demurrage_charge(
    *,
    rate_ppm: int,
    period_days: int,
    spans: Iterable[BalanceSpan],
    available_now: int,
) -> int:
    """Charge for one account and period (see the module formula); never above available."""
    if not 0 <= rate_ppm <= PPM_DENOMINATOR:
        raise InvalidAmount("demurrage rate must be in [0, 1 000 000] ppm", rate_ppm=rate_ppm)
    if period_days <= 0:
        raise InvalidPeriod("a period has at least one day")
    balance_days = 0
    total_days = 0
    for span in spans:
        if span.days < 0:
            raise InvalidPeriod("a span cannot last a negative number of days")
        total_days += span.days
        balance_days += max(span.balance, 0) * span.days
    if total_days > period_days:
        raise InvalidPeriod(f"spans cover {total_days} days, more than the period's {period_days}")
    charge = rate_ppm * balance_days // (PPM_DENOMINATOR * period_days)
    return min(charge, max(available_now, 0))


def demurrage_postings(
    *, currency: str, fund: UUID, charges: Mapping[UUID, int]
) -> tuple[Posting, ...]:
    """One transaction taking each positive charge from its account into ``fund``.

    Returns no postings when nobody owes anything, so the caller posts nothing.
    """
    if fund in charges:
        raise DuplicateAccountPosting("the demurrage fund cannot be charged itself")
    if any(amount < 0 for amount in charges.values()):
        raise InvalidAmount("demurrage charges cannot be negative")
    debits = [
        Posting(account_id=account, currency=currency, amount=-amount)
        for account, amount in charges.items()
        if amount > 0
    ]
    if not debits:
        return ()
    total = -sum(p.amount for p in debits)
    return validate_transaction(
        [*debits, Posting(account_id=fund, currency=currency, amount=total)]
    )
