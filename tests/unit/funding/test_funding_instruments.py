"""Loan schedules and repayments: exact sums, increasing dates, matching in order, arrears
against a simple model, guarantee calls up to their cap."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.funding.instruments.errors import InvalidTermsError
from services.funding.instruments.rules import (
    Frequency,
    GuaranteeTerms,
    LoanState,
    LoanTerms,
    add_months,
    build_schedule,
    leverage,
    loan_state,
    position,
    repayment_rate,
    reschedule,
)

terms_strategy = st.builds(
    LoanTerms,
    principal_cents=st.integers(1, 10**11),
    start_on=st.dates(date(2000, 1, 1), date(2100, 12, 31)),
    instalments=st.integers(1, 240),
    frequency=st.sampled_from(Frequency),
    deferral_months=st.integers(0, 36),
    annual_rate_bp=st.integers(0, 2_000),
)


@settings(max_examples=300, deadline=None)
@given(terms_strategy)
def test_every_schedule_sums_to_the_principal_with_increasing_dates(terms: LoanTerms) -> None:
    schedule = build_schedule(terms)
    assert len(schedule) == terms.instalments
    assert sum(i.principal_cents for i in schedule) == terms.principal_cents
    assert all(i.principal_cents >= 0 and i.interest_cents >= 0 for i in schedule)
    assert [i.number for i in schedule] == list(range(1, terms.instalments + 1))
    days = [i.due_on for i in schedule]
    assert all(a < b for a, b in zip(days, days[1:], strict=False))
    assert days[0] > terms.start_on
    # equal shares, the remainder on the last
    assert len({i.principal_cents for i in schedule[:-1]}) <= 1
    assert schedule[-1].principal_cents >= schedule[0].principal_cents
    if terms.annual_rate_bp == 0:
        assert all(i.interest_cents == 0 for i in schedule)


def test_a_repayable_advance_after_a_deferral_in_quarterly_instalments() -> None:
    schedule = build_schedule(
        LoanTerms(1_000_000, date(2026, 1, 31), 3, Frequency.QUARTERLY, deferral_months=6)
    )
    assert [(i.due_on, i.principal_cents) for i in schedule] == [
        (date(2026, 10, 31), 333_333),
        (date(2027, 1, 31), 333_333),
        (date(2027, 4, 30), 333_334),
    ]


def test_a_participatory_loan_pays_interest_on_the_principal_still_due() -> None:
    schedule = build_schedule(
        LoanTerms(1_200_000, date(2026, 1, 1), 2, Frequency.ANNUAL, annual_rate_bp=250)
    )
    assert [(i.principal_cents, i.interest_cents) for i in schedule] == [
        (600_000, 30_000),
        (600_000, 15_000),
    ]


def test_month_ends_stay_inside_the_month() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)


@pytest.mark.parametrize(
    "change",
    [
        {"principal_cents": 0},
        {"instalments": 0},
        {"deferral_months": -1},
        {"annual_rate_bp": 10_001},
    ],
)
def test_inconsistent_loan_terms_are_refused(change: dict[str, int]) -> None:
    base = {
        "principal_cents": 100,
        "start_on": date(2026, 1, 1),
        "instalments": 1,
        "frequency": Frequency.MONTHLY,
    }
    with pytest.raises(InvalidTermsError):
        LoanTerms(**{**base, **change})  # type: ignore[arg-type]


def _model(
    dues: list[tuple[date, int]], repayments: list[tuple[date, int]], as_of: date
) -> tuple[int, int, int]:
    """The simple model: cumulative due minus cumulative paid; the oldest instalment not
    covered by the total paid dates the arrears."""
    paid = sum(c for d, c in repayments if d <= as_of)
    due = sum(c for d, c in dues if d <= as_of)
    arrears = max(0, due - paid)
    cumulative, days = 0, 0
    for day, cents in dues:
        cumulative += cents
        if cumulative > paid and day <= as_of:
            days = (as_of - day).days
            break
    owed = sum(c for _, c in dues) - min(paid, sum(c for _, c in dues))
    return arrears, days, owed


@settings(max_examples=300, deadline=None)
@given(
    terms=st.builds(
        LoanTerms,
        principal_cents=st.integers(1, 10**8),
        start_on=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
        instalments=st.integers(1, 36),
        frequency=st.sampled_from(Frequency),
        deferral_months=st.integers(0, 12),
        annual_rate_bp=st.integers(0, 800),
    ),
    data=st.data(),
)
def test_repayments_in_any_order_leave_arrears_and_balances_of_the_model(
    terms: LoanTerms, data: st.DataObject
) -> None:
    schedule = build_schedule(terms)
    total = sum(i.amount_cents for i in schedule)
    span = (schedule[-1].due_on - terms.start_on).days + 400
    amounts = data.draw(st.lists(st.integers(1, max(1, total // 2)), max_size=12))
    repayments: list[tuple[date, int]] = []
    left = total
    for cents in amounts:
        if left == 0:
            break
        cents = min(cents, left)
        left -= cents
        day = terms.start_on + timedelta(days=data.draw(st.integers(0, span)))
        repayments.append((day, cents))
    shuffled = data.draw(st.permutations(repayments))
    as_of = terms.start_on + timedelta(days=data.draw(st.integers(0, span)))
    pos = position(schedule, base_repaid_cents=0, repayments=shuffled, as_of=as_of)
    dues = [(i.due_on, i.amount_cents) for i in schedule]
    arrears, days, owed = _model(dues, repayments, as_of)
    assert (pos.arrears_cents, pos.days_in_arrears, pos.owed_cents) == (arrears, days, owed)
    assert pos.flagged == (days >= 90)
    assert sum(p.paid_cents for p in pos.instalments) == pos.repaid_cents
    assert all(0 <= p.paid_cents <= p.instalment.amount_cents for p in pos.instalments)


def test_a_rescheduled_loan_counts_what_came_before_and_spreads_the_rest() -> None:
    schedule = build_schedule(LoanTerms(900, date(2026, 1, 1), 3, Frequency.MONTHLY))
    before = [(date(2026, 2, 1), 300)]
    late = position(schedule, base_repaid_cents=0, repayments=before, as_of=date(2026, 6, 1))
    assert (late.arrears_cents, late.days_in_arrears, late.flagged) == (600, 92, True)
    assert loan_state(True, late) is LoanState.FLAGGED
    assert loan_state(True, late, written_off=True) is LoanState.WRITTEN_OFF
    assert loan_state(False, late) is LoanState.AWAITING_DISBURSEMENT
    version2 = reschedule(
        late.owed_cents, start_on=date(2026, 6, 1), instalments=2, frequency=Frequency.MONTHLY
    )
    assert [i.amount_cents for i in version2] == [300, 300]
    after = [*before, (date(2026, 7, 1), 300)]
    pos = position(version2, base_repaid_cents=300, repayments=after, as_of=date(2026, 7, 2))
    assert (pos.arrears_cents, pos.owed_cents, pos.repaid_cents) == (0, 300, 600)
    assert loan_state(True, pos) is LoanState.IN_REPAYMENT
    done = position(
        version2,
        base_repaid_cents=300,
        repayments=[*after, (date(2026, 8, 1), 300)],
        as_of=date(2026, 8, 1),
    )
    assert loan_state(True, done) is LoanState.REPAID


def test_a_guarantee_pays_its_covered_share_up_to_the_cap() -> None:
    terms = GuaranteeTerms(
        bank_loan_cents=5_000_000,
        covered_share_percent=50,
        cap_cents=2_000_000,
        fee_bp=250,
        term_months=60,
    )
    assert terms.call_amount(3_000_000) == 1_500_000
    assert terms.call_amount(4_800_000) == 2_000_000
    assert terms.fee_cents == 125_000
    with pytest.raises(InvalidTermsError):
        GuaranteeTerms(5_000_000, 50, 2_500_001, 0, 60)


def test_rates_of_the_report() -> None:
    assert repayment_rate(50, 0) is None and repayment_rate(150, 100) == 1.0
    assert repayment_rate(1, 3) == 0.3333
    assert leverage(300, 100) == 3.0 and leverage(1, 0) is None
