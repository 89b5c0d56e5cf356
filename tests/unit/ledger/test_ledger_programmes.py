from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from services.ledger.programmes.errors import (
    CategoryCapExceeded,
    CategoryNotAllowed,
    InsufficientVoucherCredit,
    InvalidProgrammeRules,
    MerchantNotApproved,
)
from services.ledger.programmes.rules import (
    CreditLot,
    ProgrammeRules,
    check_purchase,
    consume_lots,
    expiry_postings,
    purchase_postings,
    sweep_expired,
)
from services.ledger.transactions.errors import InvalidAmount

NOW = datetime(2024, 9, 1, tzinfo=UTC)
REGION, DEPT = UUID(int=100), UUID(int=200)
SHOP, OTHER_SHOP, KID, FUND = (UUID(int=n) for n in (1, 2, 3, 4))
RULES = ProgrammeRules(
    approved_merchants=frozenset({SHOP}),
    allowed_categories=frozenset({"books", "sport"}),
    category_caps={"books": 8_000},
)


def lot(n, remaining, days, funder=REGION, categories=None):
    return CreditLot(
        lot_id=UUID(int=n),
        funder=funder,
        remaining=remaining,
        expires_at=NOW + timedelta(days=days),
        categories=categories,
    )


def test_purchase_at_approved_merchant_in_allowed_category_within_cap():
    check_purchase(
        rules=RULES, merchant=SHOP, category="books", amount=3000, spent_in_category=5000
    )


def test_purchase_at_unapproved_merchant_is_refused():
    with pytest.raises(MerchantNotApproved):
        check_purchase(
            rules=RULES, merchant=OTHER_SHOP, category="books", amount=1, spent_in_category=0
        )


def test_purchase_in_unallowed_category_is_refused():
    with pytest.raises(CategoryNotAllowed):
        check_purchase(rules=RULES, merchant=SHOP, category="food", amount=1, spent_in_category=0)


def test_purchase_over_category_cap_is_refused():
    with pytest.raises(CategoryCapExceeded):
        check_purchase(
            rules=RULES, merchant=SHOP, category="books", amount=3001, spent_in_category=5000
        )


def test_uncapped_category_has_no_cap():
    check_purchase(rules=RULES, merchant=SHOP, category="sport", amount=10**9, spent_in_category=0)


def test_programme_rules_refuse_caps_on_unallowed_categories():
    with pytest.raises(InvalidProgrammeRules):
        ProgrammeRules(
            approved_merchants=frozenset(),
            allowed_categories=frozenset({"books"}),
            category_caps={"food": 10},
        )


def test_programme_rules_refuse_no_categories_and_non_positive_caps():
    with pytest.raises(InvalidProgrammeRules):
        ProgrammeRules(approved_merchants=frozenset(), allowed_categories=frozenset())
    with pytest.raises(InvalidProgrammeRules):
        ProgrammeRules(
            approved_merchants=frozenset(),
            allowed_categories=frozenset({"books"}),
            category_caps={"books": 0},
        )


def test_lots_are_consumed_earliest_expiry_first():
    lots = [lot(1, 500, 30), lot(2, 500, 10, funder=DEPT), lot(3, 500, 20)]
    result = consume_lots(lots, amount=700, category="books", now=NOW)
    assert [(d.lot_id.int, d.funder, d.amount) for d in result.draws] == [
        (2, DEPT, 500),
        (3, REGION, 200),
    ]
    assert [x.remaining for x in result.lots] == [500, 0, 300]


def test_expiry_ties_are_broken_by_lot_id():
    result = consume_lots([lot(2, 100, 10), lot(1, 100, 10)], amount=50, category="x", now=NOW)
    assert result.draws[0].lot_id == UUID(int=1)


def test_expired_lots_are_never_spent():
    lots = [lot(1, 500, 0), lot(2, 100, 5)]
    assert consume_lots(lots, amount=100, category="books", now=NOW).draws[0].lot_id == UUID(int=2)
    with pytest.raises(InsufficientVoucherCredit):
        consume_lots(lots, amount=101, category="books", now=NOW)


def test_earmarked_lots_pay_only_for_their_categories():
    lots = [lot(1, 500, 5, categories=frozenset({"sport"})), lot(2, 100, 50)]
    result = consume_lots(lots, amount=100, category="books", now=NOW)
    assert [d.lot_id for d in result.draws] == [UUID(int=2)]


def test_refused_consumption_reports_usable_amount():
    with pytest.raises(InsufficientVoucherCredit) as caught:
        consume_lots([lot(1, 40, 5)], amount=50, category="books", now=NOW)
    assert caught.value.extra["usable"] == 40


@pytest.mark.parametrize("amount", [0, -3])
def test_consumption_amount_must_be_positive(amount):
    with pytest.raises(InvalidAmount):
        consume_lots([lot(1, 40, 5)], amount=amount, category="books", now=NOW)


def test_lot_cannot_hold_a_negative_amount():
    with pytest.raises(InvalidAmount):
        lot(1, -1, 5)


def test_sweep_empties_only_expired_lots_with_credit_left():
    lots = [lot(1, 300, -1, funder=DEPT), lot(2, 0, -5), lot(3, 100, 5)]
    swept = sweep_expired(lots, now=NOW)
    assert [(d.lot_id.int, d.funder, d.amount) for d in swept.draws] == [(1, DEPT, 300)]
    assert [x.remaining for x in swept.lots] == [0, 0, 100]


def test_purchase_postings_pay_the_merchant():
    consumption = consume_lots([lot(1, 500, 5)], amount=120, category="books", now=NOW)
    debit, credit = purchase_postings(
        currency="MRA", beneficiary=KID, merchant=SHOP, consumption=consumption
    )
    assert (debit.account_id, debit.amount, credit.account_id, credit.amount) == (
        KID,
        -120,
        SHOP,
        120,
    )


def test_expiry_postings_return_credit_to_programme_fund():
    swept = sweep_expired([lot(1, 300, -1), lot(2, 200, 0)], now=NOW)
    postings = expiry_postings(currency="MRA", beneficiary=KID, programme_fund=FUND, sweep=swept)
    assert {(x.account_id, x.amount) for x in postings} == {(KID, -500), (FUND, 500)}


def test_no_expiry_postings_when_nothing_expired():
    swept = sweep_expired([lot(1, 300, 5)], now=NOW)
    assert expiry_postings(currency="MRA", beneficiary=KID, programme_fund=FUND, sweep=swept) == ()


def test_programme_rules_are_hashable():
    assert hash(RULES) == hash(
        ProgrammeRules(
            approved_merchants=frozenset({SHOP}),
            allowed_categories=frozenset({"sport", "books"}),
            category_caps={"books": 8_000},
        )
    )
