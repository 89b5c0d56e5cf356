"""Conventions and payment schedules: exact sums, payability, the payment saga's statuses."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.funding.programmes.errors import InvalidAmountError
from services.funding.tranches.errors import (
    InvalidPaymentModeError,
    InvalidScheduleError,
    TrancheNotPayableError,
    TrancheStatusError,
    UnknownTrancheError,
)
from services.funding.tranches.rules import (
    DEFAULT_CONVENTION_THRESHOLD_CENTS,
    PAYMENT_ORDERED_EVENT,
    PayableWhen,
    PaymentMode,
    Progress,
    Schedule,
    TrancheKind,
    TrancheStatus,
    build_schedule,
    convention_required,
    order_payment,
    payability,
    settles,
)

ALL_DONE = Progress(
    decision_notified=True,
    convention_signed=True,
    intermediate_reports_accepted=5,
    final_report_accepted=True,
)


def _settled(schedule: Schedule, number: int, status: TrancheStatus) -> Schedule:
    """The schedule once the payer answered ``status`` to tranche ``number``'s order."""
    tranches = list(schedule.tranches)
    tranches[number - 1] = replace(tranches[number - 1], status=status)
    return replace(schedule, tranches=tuple(tranches))


def _pay(schedule: Schedule, *numbers: int) -> Schedule:
    for number in numbers:
        schedule, _ = order_payment(schedule, number, progress=ALL_DONE, mode=PaymentMode.EURO)
        schedule = _settled(schedule, number, TrancheStatus.PAID)
    return schedule


def test_default_threshold_is_23000_euros() -> None:
    assert DEFAULT_CONVENTION_THRESHOLD_CENTS == 2_300_000


@pytest.mark.parametrize(
    ("amount", "threshold", "required"),
    [(2_300_000, 2_300_000, False), (2_300_001, 2_300_000, True), (500_000, 400_000, True)],
)
def test_convention_required_strictly_above_threshold(
    amount: int, threshold: int, required: bool
) -> None:
    assert convention_required(amount, threshold_cents=threshold) is required


def test_schedule_puts_the_rounding_remainder_on_the_balance() -> None:
    schedule = build_schedule(1_000_001, advance_percent=30, intermediate_percents=(30,))
    amounts = [t.amount_cents for t in schedule.tranches]
    assert amounts == [300_000, 300_000, 400_001]
    kinds = [t.kind for t in schedule.tranches]
    assert kinds == [TrancheKind.ADVANCE, TrancheKind.INTERMEDIATE, TrancheKind.BALANCE]
    assert schedule.tranches[1].report_number == 1


def test_advance_condition_depends_on_the_convention_threshold() -> None:
    small = build_schedule(1_000_000, advance_percent=50)
    large = build_schedule(5_000_000, advance_percent=50)
    assert small.tranches[0].payable_when is PayableWhen.DECISION_NOTIFIED
    assert large.tranches[0].payable_when is PayableWhen.CONVENTION_SIGNED
    assert (small.convention_required, large.convention_required) == (False, True)


def test_zero_percent_advance_means_a_single_balance() -> None:
    schedule = build_schedule(700_000)
    assert [(t.kind, t.amount_cents) for t in schedule.tranches] == [(TrancheKind.BALANCE, 700_000)]


@pytest.mark.parametrize(
    ("advance", "intermediates"),
    [(100, ()), (60, (40,)), (-1, ()), (20, (0,)), (50, (30, 25))],
)
def test_schedule_must_leave_a_positive_balance(advance: int, intermediates: tuple[int]) -> None:
    with pytest.raises(InvalidScheduleError):
        build_schedule(1_000_000, advance_percent=advance, intermediate_percents=intermediates)


def test_schedule_needs_a_positive_grant() -> None:
    with pytest.raises(InvalidAmountError):
        build_schedule(0, advance_percent=30)


def test_advance_is_payable_once_convention_is_signed() -> None:
    schedule = build_schedule(5_000_000, advance_percent=40)
    blocked = payability(schedule, 1, Progress(decision_notified=True))
    assert not blocked.payable
    assert blocked.reasons == ("the convention is not signed",)
    assert payability(schedule, 1, Progress(convention_signed=True)).payable


def test_balance_lists_every_unmet_condition() -> None:
    schedule = build_schedule(5_000_000, advance_percent=40, intermediate_percents=(30,))
    check = payability(schedule, 3, Progress())
    assert check.reasons == (
        "the convention is not signed",
        "the final report is not accepted",
        "tranche 1 is not paid yet",
        "tranche 2 is not paid yet",
    )


def test_intermediate_tranche_waits_for_its_report() -> None:
    schedule = build_schedule(1_000_000, advance_percent=20, intermediate_percents=(20, 20))
    schedule = _pay(schedule, 1)
    progress = Progress(decision_notified=True, intermediate_reports_accepted=1)
    assert payability(schedule, 2, progress).payable
    schedule = _pay(schedule, 2)
    assert payability(schedule, 3, progress).reasons == ("intermediate report 2 is not accepted",)


def test_order_refused_when_not_payable() -> None:
    schedule = build_schedule(1_000_000, advance_percent=20)
    with pytest.raises(TrancheNotPayableError) as caught:
        order_payment(schedule, 2, progress=ALL_DONE, mode=PaymentMode.EURO)
    assert caught.value.extra["reasons"] == ["tranche 1 is not paid yet"]


def test_local_currency_order_carries_the_currency() -> None:
    schedule = build_schedule(1_000_000, advance_percent=20)
    schedule, order = order_payment(
        schedule, 1, progress=ALL_DONE, mode=PaymentMode.LOCAL_CURRENCY, currency_code="MESURE"
    )
    assert (order.amount_cents, order.currency_code) == (200_000, "MESURE")
    assert order.event_type == PAYMENT_ORDERED_EVENT
    assert schedule.tranche(1).status is TrancheStatus.ORDERED


@pytest.mark.parametrize(
    ("mode", "currency"),
    [
        (PaymentMode.EURO, "MESURE"),
        (PaymentMode.LOCAL_CURRENCY, None),
        (PaymentMode.PROGRAMME_CREDITS, "EUR"),
        (PaymentMode.LOCAL_CURRENCY, "  "),
    ],
)
def test_payment_mode_and_currency_must_match(mode: PaymentMode, currency: str | None) -> None:
    schedule = build_schedule(1_000_000, advance_percent=20)
    with pytest.raises(InvalidPaymentModeError):
        order_payment(schedule, 1, progress=ALL_DONE, mode=mode, currency_code=currency)


def test_paid_and_failed_answers_are_idempotent() -> None:
    assert settles(1, "ordered", "paid") and settles(1, "ordered", "failed")
    assert not settles(1, "paid", "paid")
    assert not settles(1, "failed", "failed")
    with pytest.raises(TrancheStatusError) as refused:
        settles(1, "paid", "failed")
    assert str(refused.value) == "tranche 1 is paid, it cannot become failed"
    schedule, _ = order_payment(
        build_schedule(1_000_000), 1, progress=ALL_DONE, mode=PaymentMode.EURO
    )
    assert _settled(schedule, 1, TrancheStatus.PAID).paid_cents == 1_000_000


def test_failed_tranche_can_be_ordered_again() -> None:
    schedule, _ = order_payment(
        build_schedule(1_000_000), 1, progress=ALL_DONE, mode=PaymentMode.EURO
    )
    schedule = _settled(schedule, 1, TrancheStatus.FAILED)
    schedule, _ = order_payment(
        schedule, 1, progress=ALL_DONE, mode=PaymentMode.PROGRAMME_CREDITS, currency_code="MRA"
    )
    tranche = schedule.tranche(1)
    assert (tranche.status, tranche.failure_reason) == (TrancheStatus.ORDERED, None)


def test_unordered_tranche_cannot_be_marked_paid() -> None:
    with pytest.raises(TrancheStatusError):
        settles(1, build_schedule(1_000_000).tranche(1).status, "paid")


def test_unknown_tranche_number() -> None:
    with pytest.raises(UnknownTrancheError):
        payability(build_schedule(1_000_000), 2, ALL_DONE)


@settings(max_examples=200, deadline=None)
@given(
    granted=st.integers(1, 10**11),
    # at most 54 + 3 × 15 = 99: a schedule must leave a balance (100 is refused by design)
    advance=st.integers(0, 54),
    intermediates=st.lists(st.integers(1, 15), max_size=3),
)
def test_schedule_amounts_always_sum_to_the_grant(
    granted: int, advance: int, intermediates: list[int]
) -> None:
    schedule = build_schedule(granted, advance_percent=advance, intermediate_percents=intermediates)
    amounts = [t.amount_cents for t in schedule.tranches]
    assert sum(amounts) == granted
    assert all(a > 0 for a in amounts)
    assert schedule.tranches[-1].kind is TrancheKind.BALANCE
    # the balance takes the rounding remainder, so it is never below its exact share
    exact_share = granted * (100 - advance - sum(intermediates))
    assert schedule.tranches[-1].amount_cents * 100 >= exact_share
