from uuid import UUID

import pytest

from services.ledger.accounts.rules import AccountType
from services.ledger.currencies.errors import (
    ConversionNotAllowed,
    FundAccountRequired,
    ReconversionForbidden,
    ReconversionTooSmall,
    ReserveInvariantViolated,
)
from services.ledger.currencies.rules.conversion import (
    check_reconversion_allowed,
    check_reserve,
    issuance_bonus,
    issue,
    reconversion_fee,
    reconvert,
    reserve_drift,
)
from services.ledger.currencies.rules.currency import CurrencyKind, CurrencyRules, ReconversionFees
from services.ledger.transactions.errors import DuplicateAccountPosting
from services.ledger.transactions.rules import imbalances

MEMBER, ISSUER, EXTERNAL, RESERVE, FUND, MERCHANT = (UUID(int=n) for n in range(1, 7))

ECO = CurrencyRules(
    code="ECO",
    kind=CurrencyKind.EURO_BACKED,
    convertible=True,
    issuance_bonus_bp=500,
    reconversion_fees=ReconversionFees(default_bp=300, by_category={"food": 100}),
)
PLAIN = CurrencyRules(code="MESURE", kind=CurrencyKind.EURO_BACKED, convertible=True)
HOURS = CurrencyRules(code="HEURE", kind=CurrencyKind.TIME)


def nets(postings):
    return {(x.currency, x.account_id): x.amount for x in postings}


def do_issue(rules=ECO, euros=10_000, **overrides):
    args = {
        "rules": rules,
        "euros": euros,
        "account": MEMBER,
        "issuer": ISSUER,
        "euro_external": EXTERNAL,
        "euro_reserve": RESERVE,
        "bonus_fund": FUND,
    }
    return issue(**(args | overrides))


def do_reconvert(rules=ECO, units=10_000, **overrides):
    args = {
        "rules": rules,
        "units": units,
        "account": MERCHANT,
        "account_type": AccountType.MERCHANT,
        "issuer": ISSUER,
        "euro_reserve": RESERVE,
        "euro_external": EXTERNAL,
        "fee_fund": FUND,
    }
    return reconvert(**(args | overrides))


def test_issuance_moves_euros_into_reserve_and_creates_units_with_bonus():
    result = do_issue()
    assert nets(result.postings) == {
        ("EUR", EXTERNAL): -10_000,
        ("EUR", RESERVE): 10_000,
        ("ECO", ISSUER): -10_000,
        ("ECO", MEMBER): 10_500,
        ("ECO", FUND): -500,
    }
    assert (result.bonus, result.circulation_change, result.reserve_change) == (500, 10_000, 10_000)
    assert imbalances(result.postings) == {}


def test_issuance_bonus_rounds_down():
    assert issuance_bonus(ECO, 19) == 0
    assert issuance_bonus(ECO, 21) == 1


def test_issuance_without_bonus_needs_no_fund():
    result = do_issue(rules=PLAIN, bonus_fund=None)
    assert result.bonus == 0
    assert len(result.postings) == 4


def test_issuance_with_bonus_needs_a_fund():
    with pytest.raises(FundAccountRequired):
        do_issue(bonus_fund=None)


def test_issuance_refuses_the_same_account_in_two_roles():
    with pytest.raises(DuplicateAccountPosting):
        do_issue(euro_external=RESERVE)


@pytest.mark.parametrize(
    "rules",
    [
        HOURS,
        CurrencyRules(code="BARTER", kind=CurrencyKind.MUTUAL_CREDIT),
        CurrencyRules(code="EUR", kind=CurrencyKind.EUR),
    ],
)
def test_issuance_refused_for_currencies_not_backed_by_euros(rules):
    with pytest.raises(ConversionNotAllowed):
        do_issue(rules=rules)


def test_reconversion_fee_by_merchant_category_rounds_up():
    assert reconversion_fee(ECO, 10_000, merchant_category="food") == 100
    assert reconversion_fee(ECO, 10_000, merchant_category="books") == 300
    assert reconversion_fee(ECO, 1, merchant_category="food") == 1
    assert reconversion_fee(PLAIN, 1, merchant_category=None) == 0


def test_reconversion_destroys_units_pays_euros_and_keeps_the_fee():
    result = do_reconvert(merchant_category="food")
    assert nets(result.postings) == {
        ("ECO", MERCHANT): -10_000,
        ("ECO", ISSUER): 9_900,
        ("ECO", FUND): 100,
        ("EUR", RESERVE): -9_900,
        ("EUR", EXTERNAL): 9_900,
    }
    assert (result.fee, result.circulation_change, result.reserve_change) == (100, -9_900, -9_900)


def test_reconversion_too_small_to_pay_anything_is_refused():
    with pytest.raises(ReconversionTooSmall):
        do_reconvert(units=1)


def test_reconversion_with_a_fee_needs_a_fund():
    with pytest.raises(FundAccountRequired):
        do_reconvert(fee_fund=None)


def test_free_reconversion_needs_no_fund():
    assert do_reconvert(rules=PLAIN, fee_fund=None).fee == 0


def test_time_currency_cannot_be_reconverted():
    with pytest.raises(ConversionNotAllowed):
        do_reconvert(rules=HOURS)


def test_individuals_cannot_reconvert_unless_the_currency_allows_it():
    with pytest.raises(ReconversionForbidden):
        check_reconversion_allowed(ECO, AccountType.MEMBER)
    lenient = CurrencyRules(
        code="ECO", kind=CurrencyKind.EURO_BACKED, convertible=True, individual_reconversion=True
    )
    check_reconversion_allowed(lenient, AccountType.MEMBER)


@pytest.mark.parametrize("kind", [AccountType.FUND, AccountType.ISSUER, AccountType.PROGRAMME])
def test_operator_accounts_cannot_reconvert(kind):
    with pytest.raises(ReconversionForbidden):
        check_reconversion_allowed(ECO, kind)


def test_reserve_invariant():
    check_reserve(units_in_circulation=500, reserve_balance=500)
    with pytest.raises(ReserveInvariantViolated):
        check_reserve(units_in_circulation=501, reserve_balance=500)


def test_reserve_drift_reports_ledger_and_bank_gaps():
    drift = reserve_drift(units_in_circulation=1000, reserve_balance=990, reported_bank_balance=995)
    assert (drift.ledger_drift, drift.bank_drift, drift.balanced) == (-10, 5, False)
    assert reserve_drift(
        units_in_circulation=7, reserve_balance=7, reported_bank_balance=7
    ).balanced
