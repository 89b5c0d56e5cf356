from datetime import date
from uuid import UUID

import pytest

from services.ledger.accounts.rules import AccountType
from services.ledger.currencies.rules.currency import DemurragePeriod
from services.ledger.demurrage.rules import (
    BalanceSpan,
    account_charge_key,
    balance_spans,
    demurrage_charge,
    demurrage_postings,
    is_charged,
    period_bounds,
    period_days,
    period_key,
)
from services.ledger.errors import InvalidPeriod
from services.ledger.transactions.errors import DuplicateAccountPosting, InvalidAmount

FUND, A, B = (UUID(int=n) for n in (9, 1, 2))


def charge(balance, days, *, rate=20_000, period=90, available=None):
    return demurrage_charge(
        rate_ppm=rate,
        period_days=period,
        spans=[BalanceSpan(balance, days)],
        available_now=balance if available is None else available,
    )


def test_full_period_charges_the_rate():
    assert charge(100_000, 90) == 2_000  # 2 % of 1000.00


def test_charge_is_pro_rata_of_days_held():
    assert charge(100_000, 45) == 1_000


def test_charge_rounds_down_toward_the_member():
    assert charge(99, 90) == 1  # 1.98 -> 1
    assert charge(49, 90) == 0  # 0.98 -> 0


def test_negative_balances_are_never_charged():
    assert charge(-50_000, 90, available=0) == 0


def test_charge_is_capped_by_available_balance_now():
    spans = [BalanceSpan(1_000_000, 89), BalanceSpan(10, 1)]
    assert demurrage_charge(rate_ppm=20_000, period_days=90, spans=spans, available_now=10) == 10


def test_charge_is_zero_when_nothing_is_available():
    assert charge(100_000, 90, available=-5) == 0


def test_average_balance_over_spans():
    spans = [BalanceSpan(100_000, 30), BalanceSpan(0, 30), BalanceSpan(-100_000, 30)]
    assert (
        demurrage_charge(rate_ppm=30_000, period_days=90, spans=spans, available_now=10**6) == 1_000
    )


def test_spans_longer_than_the_period_are_refused():
    with pytest.raises(InvalidPeriod):
        charge(100, 91)


def test_negative_span_is_refused():
    with pytest.raises(InvalidPeriod):
        charge(100, -1)


@pytest.mark.parametrize("rate", [-1, 1_000_001])
def test_rate_out_of_range_is_refused(rate):
    with pytest.raises(InvalidAmount):
        charge(100, 10, rate=rate)


def test_balance_spans_from_movements():
    spans = balance_spans(
        opening_balance=1000,
        movements=[(date(2024, 1, 11), -400), (date(2024, 1, 1), 0), (date(2024, 1, 11), 100)],
        start=date(2024, 1, 1),
        end=date(2024, 2, 1),
    )
    assert spans == (BalanceSpan(1000, 10), BalanceSpan(700, 21))


def test_balance_spans_without_movements_cover_the_whole_period():
    spans = balance_spans(
        opening_balance=5, movements=[], start=date(2024, 1, 1), end=date(2024, 4, 1)
    )
    assert spans == (BalanceSpan(5, 91),)


def test_balance_spans_refuse_movements_outside_the_period():
    with pytest.raises(InvalidPeriod):
        balance_spans(
            opening_balance=0,
            movements=[(date(2024, 2, 1), 5)],
            start=date(2024, 1, 1),
            end=date(2024, 2, 1),
        )


@pytest.mark.parametrize(
    ("period", "on", "expected"),
    [
        (DemurragePeriod.MONTH, date(2024, 2, 29), (date(2024, 2, 1), date(2024, 3, 1))),
        (DemurragePeriod.QUARTER, date(2024, 5, 15), (date(2024, 4, 1), date(2024, 7, 1))),
        (DemurragePeriod.QUARTER, date(2024, 12, 31), (date(2024, 10, 1), date(2025, 1, 1))),
        (DemurragePeriod.HALF_YEAR, date(2024, 7, 1), (date(2024, 7, 1), date(2025, 1, 1))),
        (DemurragePeriod.YEAR, date(2024, 6, 6), (date(2024, 1, 1), date(2025, 1, 1))),
    ],
)
def test_period_bounds_are_calendar_aligned(period, on, expected):
    assert period_bounds(period, on) == expected


def test_period_days_counts_calendar_days():
    assert period_days(DemurragePeriod.QUARTER, date(2024, 1, 1)) == 91
    assert period_days(DemurragePeriod.YEAR, date(2023, 1, 1)) == 365


def test_period_days_refuses_unaligned_start():
    with pytest.raises(InvalidPeriod):
        period_days(DemurragePeriod.QUARTER, date(2024, 2, 1))


def test_period_key_is_stable_and_distinct():
    assert period_key("ECO", date(2024, 1, 1)) == period_key("ECO", date(2024, 1, 1))
    assert period_key("ECO", date(2024, 1, 1)) != period_key("ECO", date(2024, 4, 1))
    assert period_key("ECO", date(2024, 1, 1)) != period_key("MESURE", date(2024, 1, 1))
    run = period_key("ECO", date(2024, 1, 1))
    assert account_charge_key(run, A) != account_charge_key(run, B)


def test_only_members_and_merchants_are_charged():
    assert {t for t in AccountType if is_charged(t)} == {AccountType.MEMBER, AccountType.MERCHANT}


def test_postings_move_charges_into_the_fund():
    postings = demurrage_postings(currency="ECO", fund=FUND, charges={A: 30, B: 0})
    assert {(x.account_id, x.amount) for x in postings} == {(A, -30), (FUND, 30)}


def test_no_postings_when_nobody_owes_anything():
    assert demurrage_postings(currency="ECO", fund=FUND, charges={A: 0}) == ()


def test_fund_cannot_charge_itself():
    with pytest.raises(DuplicateAccountPosting):
        demurrage_postings(currency="ECO", fund=FUND, charges={FUND: 3})


def test_negative_charges_are_refused():
    with pytest.raises(InvalidAmount):
        demurrage_postings(currency="ECO", fund=FUND, charges={A: -3})
