"""Conventions and payment schedules: how a granted amount is paid out, tranche by tranche.

Why: a grant is rarely paid at once. An advance lets the project start, intermediate
tranches follow accepted progress reports, and the balance follows the final report. The
schedule must add up *exactly* to the granted amount (integer cents; the rounding remainder
goes to the balance, never lost, never invented), each tranche becomes payable only when its
condition is met, and payment happens either in euros (a payment order the treasury exports)
or in a local currency / programme credits (the ledger pays and answers, funding records
the answer: ordered -> paid | failed, idempotently, because answers arrive at least once).

French law (decree 2001-495) requires a convention for grants above 23,000 euros; the
threshold is a parameter because programmes may set a lower one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from services.funding.programmes.errors import InvalidAmountError
from services.funding.tranches.errors import (
    InvalidPaymentModeError,
    InvalidScheduleError,
    TrancheNotPayableError,
    TrancheStatusError,
    UnknownTrancheError,
)

DEFAULT_CONVENTION_THRESHOLD_CENTS: Final = 2_300_000
EURO: Final = "EUR"

PAYMENT_ORDERED_EVENT: Final = "proxima.funding.payment.ordered.v1"
PAYMENT_PAID_EVENT: Final = "proxima.funding.payment.paid.v1"
PAYMENT_FAILED_EVENT: Final = "proxima.funding.payment.failed.v1"


class TrancheKind(StrEnum):
    """Role of a tranche in the schedule."""

    ADVANCE = "advance"
    INTERMEDIATE = "intermediate"
    BALANCE = "balance"


class PayableWhen(StrEnum):
    """The fact that makes a tranche payable."""

    DECISION_NOTIFIED = "decision_notified"  # advance of a grant that needs no convention
    CONVENTION_SIGNED = "convention_signed"
    INTERMEDIATE_REPORT_ACCEPTED = "intermediate_report_accepted"
    FINAL_REPORT_ACCEPTED = "final_report_accepted"


class TrancheStatus(StrEnum):
    """Where a tranche's payment stands; FAILED may be ordered again."""

    SCHEDULED = "scheduled"
    ORDERED = "ordered"
    PAID = "paid"
    FAILED = "failed"


class PaymentMode(StrEnum):
    """How a tranche is paid."""

    EURO = "euro"  # a payment order exported to the public accountant
    LOCAL_CURRENCY = "local_currency"  # posted by the ledger in a local currency
    PROGRAMME_CREDITS = "programme_credits"  # earmarked credits (M'Ra / OURA-style card)


@dataclass(frozen=True, slots=True)
class Tranche:
    """One planned payment of a grant."""

    number: int
    kind: TrancheKind
    amount_cents: int
    payable_when: PayableWhen
    report_number: int | None = None  # which intermediate report releases it
    status: TrancheStatus = TrancheStatus.SCHEDULED
    payment_mode: PaymentMode | None = None
    currency_code: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """All tranches of one grant; their amounts always sum to the granted amount."""

    granted_amount_cents: int
    convention_required: bool
    tranches: tuple[Tranche, ...]

    def __post_init__(self) -> None:
        total = sum(t.amount_cents for t in self.tranches)
        if total != self.granted_amount_cents:
            raise InvalidScheduleError(
                f"tranches sum to {total} cents, grant is {self.granted_amount_cents}"
            )
        if [t.number for t in self.tranches] != list(range(1, len(self.tranches) + 1)):
            raise InvalidScheduleError("tranches must be numbered 1..n in order")
        if not self.tranches or self.tranches[-1].kind is not TrancheKind.BALANCE:
            raise InvalidScheduleError("the last tranche must be the balance")

    @property
    def paid_cents(self) -> int:
        """Amount already confirmed paid."""
        return sum(t.amount_cents for t in self.tranches if t.status is TrancheStatus.PAID)

    def tranche(self, number: int) -> Tranche:
        """The tranche with this number, or UnknownTrancheError."""
        if not 1 <= number <= len(self.tranches):
            raise UnknownTrancheError(f"no tranche {number}", tranche_number=number)
        return self.tranches[number - 1]


@dataclass(frozen=True, slots=True)
class Progress:
    """Facts about the project, recorded elsewhere, that release tranches."""

    decision_notified: bool = False
    convention_signed: bool = False
    intermediate_reports_accepted: int = 0
    final_report_accepted: bool = False


@dataclass(frozen=True, slots=True)
class Payability:
    """Whether a tranche may be ordered now, and every reason why not."""

    payable: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """What the service must emit (and, for euros, export) to pay a tranche."""

    tranche_number: int
    amount_cents: int
    mode: PaymentMode
    currency_code: str
    event_type: str = PAYMENT_ORDERED_EVENT


def _require_cents(field: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidAmountError(field=field, value=value)


def convention_required(
    granted_amount_cents: int, *, threshold_cents: int = DEFAULT_CONVENTION_THRESHOLD_CENTS
) -> bool:
    """True when the grant is strictly above the threshold and so needs a signed convention."""
    _require_cents("granted_amount_cents", granted_amount_cents)
    _require_cents("threshold_cents", threshold_cents)
    return granted_amount_cents > threshold_cents


def _check_percents(advance_percent: int, intermediate_percents: Sequence[int]) -> None:
    for p in (advance_percent, *intermediate_percents):
        if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p < 100:
            raise InvalidScheduleError(f"percentages must be integers in 0..99, got {p!r}")
    if any(p == 0 for p in intermediate_percents):
        raise InvalidScheduleError("an intermediate tranche needs a positive percentage")
    if advance_percent + sum(intermediate_percents) >= 100:
        raise InvalidScheduleError("advance and intermediate tranches must leave a balance")


def build_schedule(
    granted_amount_cents: int,
    *,
    advance_percent: int = 0,
    intermediate_percents: Sequence[int] = (),
    convention_threshold_cents: int = DEFAULT_CONVENTION_THRESHOLD_CENTS,
) -> Schedule:
    """Split a grant into advance, intermediate tranches and balance, summing exactly.

    Each percentage is floored to the cent and the remainder goes to the balance. A tranche
    that would round down to zero cents is left out rather than scheduled empty.
    """
    _require_cents("granted_amount_cents", granted_amount_cents)
    _check_percents(advance_percent, intermediate_percents)
    needs_convention = convention_required(
        granted_amount_cents, threshold_cents=convention_threshold_cents
    )
    start = PayableWhen.CONVENTION_SIGNED if needs_convention else PayableWhen.DECISION_NOTIFIED
    planned: list[tuple[TrancheKind, int, PayableWhen, int | None]] = [
        (TrancheKind.ADVANCE, granted_amount_cents * advance_percent // 100, start, None)
    ]
    for index, percent in enumerate(intermediate_percents, start=1):
        amount = granted_amount_cents * percent // 100
        planned.append(
            (TrancheKind.INTERMEDIATE, amount, PayableWhen.INTERMEDIATE_REPORT_ACCEPTED, index)
        )
    kept = [p for p in planned if p[1] > 0]
    balance = granted_amount_cents - sum(p[1] for p in kept)
    kept.append((TrancheKind.BALANCE, balance, PayableWhen.FINAL_REPORT_ACCEPTED, None))
    tranches = tuple(
        Tranche(number=n, kind=kind, amount_cents=amount, payable_when=when, report_number=report)
        for n, (kind, amount, when, report) in enumerate(kept, start=1)
    )
    return Schedule(
        granted_amount_cents=granted_amount_cents,
        convention_required=needs_convention,
        tranches=tranches,
    )


def single_disbursement(
    amount_cents: int, *, convention_threshold_cents: int = DEFAULT_CONVENTION_THRESHOLD_CENTS
) -> Schedule:
    """A loan's disbursement: the whole principal in one tranche, payable at the decision's
    notification, or at the convention's signature when one is required."""
    needs_convention = convention_required(amount_cents, threshold_cents=convention_threshold_cents)
    when = PayableWhen.CONVENTION_SIGNED if needs_convention else PayableWhen.DECISION_NOTIFIED
    return Schedule(
        granted_amount_cents=amount_cents,
        convention_required=needs_convention,
        tranches=(Tranche(1, TrancheKind.BALANCE, amount_cents, when),),
    )


def _condition_problem(tranche: Tranche, progress: Progress) -> str | None:
    when = tranche.payable_when
    if when is PayableWhen.DECISION_NOTIFIED and not progress.decision_notified:
        return "the decision has not been notified"
    if when is PayableWhen.CONVENTION_SIGNED and not progress.convention_signed:
        return "the convention is not signed"
    if when is PayableWhen.INTERMEDIATE_REPORT_ACCEPTED:
        needed = tranche.report_number or 1
        if progress.intermediate_reports_accepted < needed:
            return f"intermediate report {needed} is not accepted"
    if when is PayableWhen.FINAL_REPORT_ACCEPTED and not progress.final_report_accepted:
        return "the final report is not accepted"
    return None


def payability(schedule: Schedule, number: int, progress: Progress) -> Payability:
    """Whether tranche ``number`` may be ordered now, listing every unmet condition."""
    tranche = schedule.tranche(number)
    reasons: list[str] = []
    if tranche.status not in (TrancheStatus.SCHEDULED, TrancheStatus.FAILED):
        reasons.append(f"the tranche is already {tranche.status}")
    if schedule.convention_required and not progress.convention_signed:
        reasons.append("the convention is not signed")
    condition = _condition_problem(tranche, progress)
    if condition is not None and condition not in reasons:
        reasons.append(condition)
    # Tranches are paid in order: a balance never leaves before the advance.
    reasons.extend(
        f"tranche {earlier.number} is not paid yet"
        for earlier in schedule.tranches[: number - 1]
        if earlier.status is not TrancheStatus.PAID
    )
    return Payability(payable=not reasons, reasons=tuple(reasons))


def _currency_for(mode: PaymentMode, currency_code: str | None) -> str:
    if mode is PaymentMode.EURO:
        if currency_code not in (None, EURO):
            raise InvalidPaymentModeError(f"euro payments are in {EURO}, not {currency_code!r}")
        return EURO
    if currency_code is None or not currency_code.strip() or currency_code == EURO:
        raise InvalidPaymentModeError(f"{mode} payments need the code of a non-euro currency")
    return currency_code


def _replace_tranche(schedule: Schedule, tranche: Tranche) -> Schedule:
    tranches = list(schedule.tranches)
    tranches[tranche.number - 1] = tranche
    return replace(schedule, tranches=tuple(tranches))


def order_payment(
    schedule: Schedule,
    number: int,
    *,
    progress: Progress,
    mode: PaymentMode,
    currency_code: str | None = None,
) -> tuple[Schedule, PaymentOrder]:
    """Mark tranche ``number`` ordered and return the order to emit; refuse if not payable."""
    currency = _currency_for(mode, currency_code)
    check = payability(schedule, number, progress)
    if not check.payable:
        raise TrancheNotPayableError(number=number, reasons=check.reasons)
    tranche = replace(
        schedule.tranche(number),
        status=TrancheStatus.ORDERED,
        payment_mode=mode,
        currency_code=currency,
        failure_reason=None,
    )
    order = PaymentOrder(
        tranche_number=number, amount_cents=tranche.amount_cents, mode=mode, currency_code=currency
    )
    return _replace_tranche(schedule, tranche), order


def settles(number: int, status: str, answer: str) -> bool:
    """Whether the payer's answer (``paid`` or ``failed``) changes tranche ``number`` in
    ``status``: not the same answer again; refused unless the tranche is ordered."""
    if status == answer:
        return False
    if status != TrancheStatus.ORDERED:
        raise TrancheStatusError(
            f"tranche {number} is {status}, it cannot become {answer}",
            tranche_number=number,
            tranche_status=status,
        )
    return True
