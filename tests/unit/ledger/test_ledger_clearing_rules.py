"""Pure rules of clearing: fee rounding (half up to the cent, minimums), payment and
settlement legs balanced per currency, nets, periods, the report's French CSV."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ledger.clearing import rules
from services.ledger.clearing.errors import (
    FeeExceedsAmount,
    InvalidClearingPeriod,
    PeriodNotEnded,
    SameCurrency,
)


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


@given(st.integers(1, 10**12), st.integers(0, 9_999), st.integers(0, 10_000))
def test_a_fee_is_the_rate_rounded_half_up_to_the_cent_or_the_minimum(
    amount: int, bp: int, minimum: int
) -> None:
    exact = (Decimal(amount) * bp / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    expected = 0 if bp == 0 and minimum == 0 else max(minimum, int(exact))
    assert rules.fee(amount, bp, minimum) == expected


def test_half_a_cent_rounds_up() -> None:
    assert rules.fee(100, 50, 0) == 1  # 0.5 c
    assert rules.fee(1_100, 125, 0) == 14  # 13.75 c
    assert rules.fee(99, 50, 0) == 0  # 0.495 c


def _sums(legs: tuple[rules.Posting, ...]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.currency] += leg.amount
    return dict(totals)


@given(st.integers(1, 10**9), st.integers(0, 500), st.integers(0, 100), st.integers(0, 500))
def test_a_payment_balances_in_each_currency_and_moves_the_clearing_accounts_at_par(
    amount: int, out_bp: int, out_min: int, in_bp: int
) -> None:
    payer, payee, ca, cb, fa, fb = _ids(6)
    try:
        p = rules.payment(
            payer=payer,
            payee=payee,
            amount=amount,
            payer_side=rules.Side("A", ca, fa),
            payee_side=rules.Side("B", cb, fb),
            payer_fees=rules.Fees(payer_bp=out_bp, payer_min=out_min),
            payee_fees=rules.Fees(payee_bp=in_bp),
        )
    except FeeExceedsAmount:
        assert rules.fee(amount, in_bp, 0) >= amount
        return
    assert _sums(p.legs) == {"A": 0, "B": 0}
    by_account = {leg.account_id: leg.amount for leg in p.legs}
    assert by_account[ca] == amount and by_account[cb] == -amount
    assert by_account[payer] == -(amount + p.payer_fee)
    assert by_account[payee] == amount - p.payee_fee
    assert by_account.get(fa, 0) == p.payer_fee and by_account.get(fb, 0) == p.payee_fee


def test_a_payment_within_one_currency_is_refused() -> None:
    a, b, c = _ids(3)
    with pytest.raises(SameCurrency):
        rules.payment(
            payer=a,
            payee=b,
            amount=1,
            payer_side=rules.Side("A", c, None),
            payee_side=rules.Side("A", c, None),
            payer_fees=rules.Fees(),
            payee_fees=rules.Fees(),
        )


@pytest.mark.parametrize("shared_bank", [False, True])
def test_a_settlement_balances_and_keeps_each_reserve_equal_to_its_units(
    shared_bank: bool,
) -> None:
    ia, ra, ba, ib, rb, bb, ca, cb = _ids(8)
    if shared_bank:
        bb = ba
    payer = rules.Reserve("A", ia, ra, ba, "EUR")
    payee = rules.Reserve("B", ib, rb, bb, "EUR")
    legs = rules.settlement_legs(
        payer=payer, payer_clearing=ca, payee=payee, payee_clearing=cb, amount=700
    )
    assert set(_sums(legs).values()) == {0}
    moved = {leg.account_id: leg.amount for leg in legs}
    # Units retired in A as euros leave its reserve; units issued in B as euros arrive.
    assert moved[ca] == -700 and moved[ia] == 700 and moved[ra] == -700
    assert moved[cb] == 700 and moved[ib] == -700 and moved[rb] == 700
    assert (ba in moved) is not shared_bank


def test_nets_periods_and_refusals() -> None:
    assert rules.net("A", "B", 300, 100) == rules.Net("A", "B", 200)
    assert rules.net("A", "B", 100, 300) == rules.Net("B", "A", 200)
    assert rules.net("A", "B", 5, 5) == rules.Net(None, None, 0)
    assert rules.pair("B", "A") == ("A", "B")
    assert rules.parse_period("2026-11") == date(2026, 11, 1)
    for bad in ("2026-13", "0000-01", "2026-1", "26-11"):
        with pytest.raises(InvalidClearingPeriod):
            rules.parse_period(bad)
    rules.check_period_ended(date(2026, 11, 1), date(2026, 12, 1))
    with pytest.raises(PeriodNotEnded):
        rules.check_period_ended(date(2026, 12, 1), date(2026, 12, 31))


def test_the_report_csv_has_french_headers_and_neutralised_text() -> None:
    row = {
        "period": "2026-11",
        "currency_low": "A",
        "currency_high": "B",
        "low_to_high": 300,
        "high_to_low": 100,
        "payments": 2,
        "payer_currency": "A",
        "payee_currency": "B",
        "amount": 200,
        "transaction_id": None,
        "settled_by": "=cmd",
        "settled_at": "2026-12-01T00:00:00Z",
    }
    [header, line] = list(csv.reader(io.StringIO(rules.report_csv([row]))))
    assert header[0] == "Période" and "Solde réglé en euros (centimes)" in header
    assert line[8] == "200" and line[9] == "" and not line[10].startswith("=")
