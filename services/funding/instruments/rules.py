"""Pure rules of the instruments: terms, repayment schedules, matching repayments to
instalments, arrears, guarantee calls.

A schedule is computed once from the terms and stored; it is never recomputed silently. A
rescheduling is a new version that spreads what is still owed at that moment over new
instalments; the repayments received before it count against the earlier versions.
Amounts are whole cents: each instalment's principal is floored and the remainder goes to
the last one, so a schedule always sums exactly to the principal.
"""

from __future__ import annotations

import base64
import calendar
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from services.funding.instruments.errors import InvalidTermsError

ARREARS_THRESHOLD_DAYS: Final = 90
"""A loan whose oldest unpaid instalment is this many days late is flagged (the usual
"créance douteuse" threshold of credit back offices)."""

MAX_INSTALMENTS: Final = 600
MAX_DEFERRAL_MONTHS: Final = 120


class InstrumentKind(StrEnum):
    """What a programme awards besides a grant."""

    REPAYABLE_ADVANCE = "repayable_advance"  # zero interest, deferral, instalments
    HONOUR_LOAN = "honour_loan"  # personal, zero interest, to the founder
    PARTICIPATORY_LOAN = "participatory_loan"  # quasi-equity, rate and term
    GUARANTEE = "guarantee"  # covers a share of a bank loan, up to a cap

    @property
    def is_loan(self) -> bool:
        """Loans are disbursed and repaid; a guarantee is only paid when called."""
        return self is not InstrumentKind.GUARANTEE


class Frequency(StrEnum):
    """How often instalments fall due."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}[self.value]


class LoanState(StrEnum):
    """Where a loan stands on a given day (derived, never stored)."""

    AWAITING_DISBURSEMENT = "awaiting_disbursement"
    IN_REPAYMENT = "in_repayment"
    IN_ARREARS = "in_arrears"
    FLAGGED = "flagged"  # arrears past ARREARS_THRESHOLD_DAYS
    WRITTEN_OFF = "written_off"  # a flagged loan two officers agreed to write off
    REPAID = "repaid"


class GuaranteeState(StrEnum):
    """Where a guarantee stands."""

    ACTIVE = "active"
    CALLED = "called"


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """The repayment terms recorded at decision."""

    principal_cents: int
    start_on: date  # disbursement (expected): deferral and periods run from it
    instalments: int
    frequency: Frequency
    deferral_months: int = 0
    annual_rate_bp: int = 0  # basis points a year; zero for advances and honour loans

    def __post_init__(self) -> None:
        if self.principal_cents <= 0:
            raise InvalidTermsError("the principal must be a positive number of cents")
        if not 1 <= self.instalments <= MAX_INSTALMENTS:
            raise InvalidTermsError(f"instalments must be between 1 and {MAX_INSTALMENTS}")
        if not 0 <= self.deferral_months <= MAX_DEFERRAL_MONTHS:
            raise InvalidTermsError(f"deferral must be between 0 and {MAX_DEFERRAL_MONTHS}")
        if not 0 <= self.annual_rate_bp <= 10_000:
            raise InvalidTermsError("the annual rate must be between 0 and 10000 basis points")


@dataclass(frozen=True, slots=True)
class GuaranteeTerms:
    """A guarantee on a bank loan: the share it covers and the cap of its exposure."""

    bank_loan_cents: int
    covered_share_percent: int
    cap_cents: int
    fee_bp: int
    term_months: int

    def __post_init__(self) -> None:
        if self.bank_loan_cents <= 0 or self.cap_cents <= 0:
            raise InvalidTermsError("the bank loan and the cap must be positive")
        if not 1 <= self.covered_share_percent <= 100:
            raise InvalidTermsError("the covered share must be between 1 and 100 percent")
        if self.cap_cents > self.bank_loan_cents * self.covered_share_percent // 100:
            raise InvalidTermsError(
                "the cap exceeds the covered share of the bank loan",
            )
        if not 0 <= self.fee_bp <= 10_000 or not 1 <= self.term_months <= MAX_INSTALMENTS:
            raise InvalidTermsError("the fee or the term is out of range")

    @property
    def fee_cents(self) -> int:
        """The one-off guarantee fee on the bank loan, floored to the cent."""
        return self.bank_loan_cents * self.fee_bp // 10_000

    def call_amount(self, outstanding_cents: int) -> int:
        """What the guarantee pays on a default: the covered share of what the bank still
        has outstanding, never above the cap."""
        if outstanding_cents <= 0:
            raise InvalidTermsError("the outstanding amount must be positive")
        return min(self.cap_cents, outstanding_cents * self.covered_share_percent // 100)


@dataclass(frozen=True, slots=True)
class Instalment:
    """One instalment: principal and interest due on a day."""

    number: int
    due_on: date
    principal_cents: int
    interest_cents: int = 0

    @property
    def amount_cents(self) -> int:
        return self.principal_cents + self.interest_cents


def add_months(start: date, months: int) -> date:
    """``start`` moved by ``months``, on the same day or the month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def build_schedule(terms: LoanTerms) -> tuple[Instalment, ...]:
    """Equal principal instalments after the deferral, the remainder on the last one.

    Interest (participatory loans) is simple interest on the principal still due over each
    period, the deferral included in the first, floored to the cent."""
    n = terms.instalments
    share, remainder = divmod(terms.principal_cents, n)
    outstanding = terms.principal_cents
    rows: list[Instalment] = []
    for number in range(1, n + 1):
        due = add_months(terms.start_on, terms.deferral_months + number * terms.frequency.months)
        months = terms.frequency.months + (terms.deferral_months if number == 1 else 0)
        interest = outstanding * terms.annual_rate_bp * months // (12 * 10_000)
        principal = share + (remainder if number == n else 0)
        rows.append(Instalment(number, due, principal, interest))
        outstanding -= principal
    return tuple(rows)


def reschedule(
    owed_cents: int, *, start_on: date, instalments: int, frequency: Frequency
) -> tuple[Instalment, ...]:
    """A new version spreading what is still owed (principal and interest already due)
    over new instalments, without new interest."""
    return build_schedule(
        LoanTerms(
            principal_cents=owed_cents,
            start_on=start_on,
            instalments=instalments,
            frequency=frequency,
        )
    )


@dataclass(frozen=True, slots=True)
class InstalmentPosition:
    """An instalment and what the repayments matched to it."""

    instalment: Instalment
    paid_cents: int

    @property
    def unpaid_cents(self) -> int:
        return self.instalment.amount_cents - self.paid_cents


@dataclass(frozen=True, slots=True)
class Position:
    """A loan's position on a day."""

    as_of: date
    owed_cents: int  # everything the current schedule asks, not yet repaid
    repaid_cents: int
    due_cents: int  # falling due up to as_of, over the whole life of the loan
    arrears_cents: int
    days_in_arrears: int
    flagged: bool
    instalments: tuple[InstalmentPosition, ...]


def match(instalments: Iterable[Instalment], paid_cents: int) -> tuple[InstalmentPosition, ...]:
    """Match ``paid_cents`` to the instalments in order: the oldest is settled first."""
    left = paid_cents
    matched = []
    for instalment in instalments:
        taken = min(left, instalment.amount_cents)
        left -= taken
        matched.append(InstalmentPosition(instalment, taken))
    return tuple(matched)


def position(
    instalments: tuple[Instalment, ...],
    *,
    base_repaid_cents: int,
    repayments: Iterable[tuple[date, int]],
    as_of: date,
    threshold_days: int = ARREARS_THRESHOLD_DAYS,
) -> Position:
    """The position on ``as_of`` of a schedule version that starts once ``base_repaid_cents``
    were repaid, given every repayment received (date, cents), in any order."""
    received = sum(cents for day, cents in repayments if day <= as_of)
    current = max(0, received - base_repaid_cents)
    matched = match(instalments, current)
    late = [p for p in matched if p.instalment.due_on <= as_of and p.unpaid_cents > 0]
    arrears = sum(p.unpaid_cents for p in late)
    days = (as_of - late[0].instalment.due_on).days if late else 0
    due_here = sum(i.amount_cents for i in instalments if i.due_on <= as_of)
    return Position(
        as_of=as_of,
        owed_cents=sum(i.amount_cents for i in instalments) - current,
        repaid_cents=received,
        due_cents=base_repaid_cents + due_here,
        arrears_cents=arrears,
        days_in_arrears=days,
        flagged=days >= threshold_days,
        instalments=matched,
    )


def loan_state(disbursed: bool, pos: Position, *, written_off: bool = False) -> LoanState:
    """The state a loan's position puts it in; a written-off loan repaid after all is
    repaid."""
    if not disbursed:
        return LoanState.AWAITING_DISBURSEMENT
    if pos.owed_cents == 0:
        return LoanState.REPAID
    if written_off:
        return LoanState.WRITTEN_OFF
    if pos.flagged:
        return LoanState.FLAGGED
    if pos.arrears_cents > 0:
        return LoanState.IN_ARREARS
    return LoanState.IN_REPAYMENT


def repayment_rate(repaid_cents: int, due_cents: int) -> float | None:
    """Share of what fell due that came back (capped at 1: early repayments do not count
    twice); None when nothing fell due yet."""
    if due_cents <= 0:
        return None
    return round(min(repaid_cents, due_cents) / due_cents, 4)


def leverage(bank_credit_cents: int, public_cents: int) -> float | None:
    """Bank credit brought in per euro of public money; None without public money."""
    if public_cents <= 0:
        return None
    return round(bank_credit_cents / public_cents, 4)


def survival(active: int, followed: int) -> float | None:
    """Share of the firms followed at a given age that are still active; None when none
    was followed at that age yet."""
    if followed <= 0:
        return None
    return round(active / followed, 4)


ReportKey = tuple[str, str, int, str]
"""A row of the instruments' report: (programme code, territory, decision year, kind)."""


def report_cursor(key: ReportKey) -> str:
    """The opaque ``next_cursor`` after the report row ``key`` (URL-safe base64 of JSON)."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def report_key(cursor: str) -> ReportKey | None:
    """The report row a cursor points after; None when it is not one this service gave."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    if not (isinstance(raw, list) and len(raw) == 4):
        return None
    code, area, year, kind = raw
    if not (isinstance(code, str) and isinstance(area, str) and isinstance(kind, str)):
        return None
    if isinstance(year, bool) or not isinstance(year, int):
        return None
    return (code, area, year, kind)
