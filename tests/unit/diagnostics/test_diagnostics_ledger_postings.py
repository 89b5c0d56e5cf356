"""Posted ledger legs become circulation transfers and additive monthly counters."""

from datetime import UTC, date, datetime

import pytest

from services.diagnostics.aggregates.rules.circulation import TransferKind
from services.diagnostics.aggregates.rules.postings import (
    Counters,
    Leg,
    StoredTransfer,
    active_accounts,
    instant_within,
    month_bounds,
    period_of,
    recompute,
    transaction_counters,
    transfers_from_legs,
)
from services.diagnostics.errors import InvalidInput

AT = datetime(2026, 11, 3, 12, tzinfo=UTC)


def test_issuance_with_a_bonus_pairs_each_debit_with_the_credits_in_order():
    # issuer −100 and bonus fund −5 against member +105: the greedy pairing gives
    # issuer→member 100 (issuance) and fund→member 5 (issuance).
    legs = [
        Leg("issuer", "issuer", None, -100),
        Leg("fund", "fund", "38", -5),
        Leg("m", "member", "38", 105),
    ]
    transfers = transfers_from_legs(legs, at=AT)
    assert [(t.payer_account, t.payee_account, t.amount, t.kind) for t in transfers] == [
        ("issuer", "m", 100, TransferKind.ISSUANCE),
        ("fund", "m", 5, TransferKind.ISSUANCE),
    ]


def test_payment_reconversion_and_operator_only_moves():
    legs = [
        Leg("m", "member", "38", -70),
        Leg("s", "merchant", "69", 50),
        Leg("op", "reserve", None, 20),
    ]
    kinds = [(t.payee_account, t.amount, t.kind) for t in transfers_from_legs(legs, at=AT)]
    assert kinds == [("s", 50, TransferKind.PAYMENT), ("op", 20, TransferKind.RECONVERSION)]
    operator_only = [Leg("reserve", "reserve", None, -9), Leg("fund", "fund", None, 9)]
    assert transfers_from_legs(operator_only, at=AT) == []


def test_unbalanced_legs_are_refused():
    with pytest.raises(InvalidInput):
        transfers_from_legs([Leg("a", "member", "38", -5), Leg("b", "member", "38", 4)], at=AT)


def test_counters_of_one_transaction_per_territory():
    # m (38) pays 30 to s (38) and 20 to t (69): 38 spent 30 locally and 20 outside,
    # 69 received 20 from outside; each territory counts the transaction once.
    legs = [
        Leg("m", "member", "38", -50),
        Leg("s", "merchant", "38", 30),
        Leg("t", "merchant", "69", 20),
    ]
    counters = transaction_counters(
        transfers_from_legs(legs, at=AT), currency="MESURE", period="2026-11"
    )
    assert counters == {
        ("38", "MESURE", "2026-11"): Counters(transactions=1, spent_locally=30, spent_outside=20),
        ("69", "MESURE", "2026-11"): Counters(transactions=1, received_from_outside=20),
    }
    own = counters[("38", "MESURE", "2026-11")]
    assert own.volume == 50 and own.share("spent_locally") == pytest.approx(30 / 50)
    assert Counters().share("reconverted") is None


def test_recompute_sums_transactions_and_counts_each_once():
    first = transfers_from_legs(
        [Leg("i", "issuer", None, -10), Leg("m", "member", "38", 10)], at=AT
    )
    second = transfers_from_legs([Leg("m", "member", "38", -4), Leg("i", "issuer", None, 4)], at=AT)
    stored = [StoredTransfer("t1", "X", "2026-11", t) for t in first] + [
        StoredTransfer("t2", "X", "2026-11", t) for t in second
    ]
    assert recompute(stored) == {
        ("38", "X", "2026-11"): Counters(transactions=2, issued=10, reconverted=4)
    }
    incremental = (
        transaction_counters(first, currency="X", period="2026-11")[("38", "X", "2026-11")]
        + transaction_counters(second, currency="X", period="2026-11")[("38", "X", "2026-11")]
    )
    assert incremental == recompute(stored)[("38", "X", "2026-11")]


def test_months_and_instants():
    assert period_of(date(2026, 1, 31)) == "2026-01"
    assert month_bounds("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(InvalidInput):
        month_bounds("2026-13")
    with pytest.raises(InvalidInput):
        month_bounds("soon")
    # a posting back-dated to 2 November keeps its business date
    clamped = instant_within(date(2026, 11, 2), AT)
    assert clamped.date() == date(2026, 11, 2) and clamped.hour == 23
    assert instant_within(date(2026, 11, 3), AT) == AT


def test_active_accounts_are_the_circulating_ones_of_each_territory():
    transfers = transfers_from_legs(
        [
            Leg("issuer", "issuer", "38", -10),
            Leg("m", "member", "38", 6),
            Leg("s", "merchant", "69", 4),
        ],
        at=AT,
    ) + transfers_from_legs([Leg("s", "merchant", "69", -1), Leg("fund", "fund", "69", 1)], at=AT)
    # the issuer and the fund are outside circulation, even with a territory
    assert active_accounts(transfers) == {("38", "m"), ("69", "s")}
