import pytest

from services.ledger.accounts.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotEmpty,
    BalanceLimitExceeded,
    CreditLimitExceeded,
    CreditLimitOutOfPolicy,
    CurrencyMismatch,
    InsufficientFunds,
    InvalidStatusTransition,
)
from services.ledger.accounts.rules import (
    AccountStatus,
    AccountType,
    Bounds,
    bounds_for,
    check_bounds,
    check_closable,
    check_credit_limit,
    check_postable,
    transition_status,
)
from services.ledger.currencies.rules.currency import (
    CreditLimitPolicy,
    CurrencyKind,
    CurrencyRules,
)

ECO = CurrencyRules(code="ECO", kind=CurrencyKind.EURO_BACKED, max_balance=50_000)
BARTER = CurrencyRules(
    code="BARTER",
    kind=CurrencyKind.MUTUAL_CREDIT,
    credit_limit=CreditLimitPolicy(max_limit=100_000, max_total_debt=1_000_000),
)


def test_debit_within_available_balance_is_accepted():
    check_bounds(posted=100, held=30, delta=-70, lower=0, upper=None)


def test_debit_beyond_available_balance_is_insufficient_funds():
    with pytest.raises(InsufficientFunds) as caught:
        check_bounds(posted=100, held=30, delta=-71, lower=0, upper=None)
    assert caught.value.extra["available"] == 70


def test_debit_beyond_credit_limit_is_credit_limit_exceeded():
    check_bounds(posted=0, held=0, delta=-500, lower=-500, upper=None)
    with pytest.raises(CreditLimitExceeded):
        check_bounds(posted=0, held=0, delta=-501, lower=-500, upper=None)


def test_credit_beyond_upper_bound_is_refused():
    check_bounds(posted=40, held=0, delta=10, lower=0, upper=50)
    with pytest.raises(BalanceLimitExceeded):
        check_bounds(posted=40, held=0, delta=11, lower=0, upper=50)


def test_held_amount_does_not_count_against_the_upper_bound():
    check_bounds(posted=40, held=40, delta=10, lower=0, upper=50)


def test_account_below_its_lower_bound_can_still_be_credited():
    check_bounds(posted=-900, held=0, delta=100, lower=-500, upper=None)


def test_account_above_its_upper_bound_can_still_be_debited():
    check_bounds(posted=900, held=0, delta=-100, lower=0, upper=500)


def test_unbounded_sides_accept_anything():
    check_bounds(posted=0, held=0, delta=-(10**12), lower=None, upper=None)
    check_bounds(posted=0, held=0, delta=10**12, lower=None, upper=None)


def test_member_of_euro_backed_currency_cannot_go_negative_and_is_capped():
    assert bounds_for(account_type=AccountType.MEMBER, rules=ECO) == Bounds(0, 50_000)


def test_merchant_is_not_capped_by_max_balance():
    assert bounds_for(account_type=AccountType.MERCHANT, rules=ECO) == Bounds(0, None)


def test_issuer_may_go_negative_but_never_positive():
    assert bounds_for(account_type=AccountType.ISSUER, rules=ECO) == Bounds(None, 0)


@pytest.mark.parametrize("kind", [AccountType.RESERVE, AccountType.FUND, AccountType.PROGRAMME])
def test_operator_accounts_never_go_negative(kind):
    assert bounds_for(account_type=kind, rules=ECO) == Bounds(0, None)


def test_mutual_credit_member_goes_down_to_its_credit_limit():
    bounds = bounds_for(account_type=AccountType.MERCHANT, rules=BARTER, credit_limit=20_000)
    assert bounds == Bounds(-20_000, None)


def test_credit_limit_refused_where_currency_allows_no_credit():
    with pytest.raises(CreditLimitOutOfPolicy):
        bounds_for(account_type=AccountType.MEMBER, rules=ECO, credit_limit=1)


@pytest.mark.parametrize("limit", [-1, 100_001])
def test_credit_limit_outside_policy_is_refused(limit):
    with pytest.raises(CreditLimitOutOfPolicy):
        check_credit_limit(rules=BARTER, credit_limit=limit)


def test_postable_refuses_wrong_currency():
    with pytest.raises(CurrencyMismatch):
        check_postable(
            status=AccountStatus.ACTIVE, delta=5, account_currency="ECO", posting_currency="EUR"
        )


def test_frozen_account_can_receive_but_not_pay():
    check_postable(
        status=AccountStatus.FROZEN, delta=5, account_currency="ECO", posting_currency="ECO"
    )
    with pytest.raises(AccountFrozen):
        check_postable(
            status=AccountStatus.FROZEN, delta=-5, account_currency="ECO", posting_currency="ECO"
        )


@pytest.mark.parametrize("delta", [5, -5])
def test_closed_account_cannot_move(delta):
    with pytest.raises(AccountClosed):
        check_postable(
            status=AccountStatus.CLOSED, delta=delta, account_currency="ECO", posting_currency="ECO"
        )


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (AccountStatus.ACTIVE, AccountStatus.FROZEN),
        (AccountStatus.FROZEN, AccountStatus.ACTIVE),
        (AccountStatus.ACTIVE, AccountStatus.CLOSED),
        (AccountStatus.FROZEN, AccountStatus.CLOSED),
    ],
)
def test_allowed_status_transitions(current, target):
    assert transition_status(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (AccountStatus.CLOSED, AccountStatus.ACTIVE),
        (AccountStatus.CLOSED, AccountStatus.FROZEN),
        (AccountStatus.ACTIVE, AccountStatus.ACTIVE),
    ],
)
def test_refused_status_transitions(current, target):
    with pytest.raises(InvalidStatusTransition):
        transition_status(current, target)


def test_only_empty_accounts_without_holds_can_close():
    check_closable(posted=0, held=0)
    for posted, held in [(1, 0), (-1, 0), (0, 1)]:
        with pytest.raises(AccountNotEmpty):
            check_closable(posted=posted, held=held)
