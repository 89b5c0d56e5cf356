import pytest

from services.ledger.currencies.errors import InvalidCurrencyRules
from services.ledger.currencies.rules.currency import (
    CreditLimitPolicy,
    CurrencyKind,
    CurrencyRules,
    DemurragePeriod,
    DemurrageRule,
    ReconversionFees,
)


def test_time_currency_can_never_be_convertible():
    with pytest.raises(InvalidCurrencyRules, match="time"):
        CurrencyRules(code="HEURE", kind=CurrencyKind.TIME, convertible=True)


def test_mutual_credit_cannot_be_convertible():
    with pytest.raises(InvalidCurrencyRules):
        CurrencyRules(code="BARTER", kind=CurrencyKind.MUTUAL_CREDIT, convertible=True)


def test_euro_backed_and_voucher_currencies_may_be_convertible():
    assert CurrencyRules(code="MESURE", kind=CurrencyKind.EURO_BACKED, convertible=True)
    assert CurrencyRules(code="MRA", kind=CurrencyKind.VOUCHER, convertible=True)


def test_credit_limits_only_for_mutual_credit_and_time():
    policy = CreditLimitPolicy(max_limit=100_000)
    assert CurrencyRules(code="BARTER", kind=CurrencyKind.MUTUAL_CREDIT, credit_limit=policy)
    assert CurrencyRules(code="HEURE", kind=CurrencyKind.TIME, credit_limit=policy)
    with pytest.raises(InvalidCurrencyRules, match="negative balances"):
        CurrencyRules(code="ECO", kind=CurrencyKind.EURO_BACKED, credit_limit=policy)


def test_issuance_bonus_needs_a_euro_backed_currency():
    with pytest.raises(InvalidCurrencyRules, match="bonus"):
        CurrencyRules(code="HEURE", kind=CurrencyKind.TIME, issuance_bonus_bp=500)


def test_reconversion_fees_need_a_convertible_currency():
    with pytest.raises(InvalidCurrencyRules, match="convertible"):
        CurrencyRules(
            code="ECO",
            kind=CurrencyKind.EURO_BACKED,
            reconversion_fees=ReconversionFees(default_bp=5),
        )


def test_euro_backed_currency_must_use_euro_scale():
    with pytest.raises(InvalidCurrencyRules, match="decimal"):
        CurrencyRules(code="ECO", kind=CurrencyKind.EURO_BACKED, scale=3)


def test_time_currency_may_use_any_scale():
    assert CurrencyRules(code="HEURE", kind=CurrencyKind.TIME, scale=0).scale == 0


def test_euros_cannot_have_demurrage():
    with pytest.raises(InvalidCurrencyRules):
        CurrencyRules(
            code="EUR",
            kind=CurrencyKind.EUR,
            demurrage=DemurrageRule(rate_ppm=1000, period=DemurragePeriod.MONTH),
        )


@pytest.mark.parametrize("code", ["", "e", "eur", "1EUR", "EU R", "A" * 17])
def test_currency_code_format_is_enforced(code):
    with pytest.raises(InvalidCurrencyRules):
        CurrencyRules(code=code, kind=CurrencyKind.EUR)


@pytest.mark.parametrize("rate", [0, -1, 1_000_001])
def test_demurrage_rate_must_be_within_zero_and_one_hundred_percent(rate):
    with pytest.raises(InvalidCurrencyRules):
        DemurrageRule(rate_ppm=rate, period=DemurragePeriod.QUARTER)


def test_credit_limit_policy_default_cannot_exceed_max():
    with pytest.raises(InvalidCurrencyRules):
        CreditLimitPolicy(default_limit=10, max_limit=5)


@pytest.mark.parametrize("bp", [-1, 10_000])
def test_reconversion_fee_must_be_below_one_hundred_percent(bp):
    with pytest.raises(InvalidCurrencyRules):
        ReconversionFees(by_category={"food": bp})


def test_fee_schedule_falls_back_to_default_for_unknown_or_missing_category():
    fees = ReconversionFees(default_bp=300, by_category={"food": 100})
    assert fees.fee_bp("food") == 100
    assert fees.fee_bp("books") == 300
    assert fees.fee_bp(None) == 300


def test_fee_schedule_cannot_be_mutated_through_the_source_dict():
    source = {"food": 100}
    fees = ReconversionFees(by_category=source)
    source["food"] = 9_000
    assert fees.fee_bp("food") == 100


@pytest.mark.parametrize("field", ["max_balance", "monthly_load_cap"])
def test_caps_must_be_positive(field):
    with pytest.raises(InvalidCurrencyRules):
        CurrencyRules(code="MRA", kind=CurrencyKind.VOUCHER, **{field: 0})


def test_rules_are_hashable_and_compare_by_value():
    def make():
        return CurrencyRules(
            code="ECO",
            kind=CurrencyKind.EURO_BACKED,
            convertible=True,
            reconversion_fees=ReconversionFees(by_category={"food": 100}),
        )

    assert make() == make()
    assert hash(make()) == hash(make())
