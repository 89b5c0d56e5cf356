from uuid import UUID

import pytest

from services.ledger.transactions.errors import (
    DuplicateAccountPosting,
    InvalidAmount,
    TooFewPostings,
    UnbalancedTransaction,
)
from services.ledger.transactions.rules import (
    MAX_AMOUNT,
    Posting,
    canonical_order,
    check_positive,
    imbalances,
    merge_postings,
    reversal_of,
    transfer,
    validate_transaction,
)

A, B, C = (UUID(int=n) for n in (1, 2, 3))


def p(account, currency, amount):
    return Posting(account_id=account, currency=currency, amount=amount)


def test_balanced_transfer_is_valid():
    assert validate_transaction([p(A, "ECO", -10), p(B, "ECO", 10)])


def test_validated_postings_come_back_in_canonical_order():
    postings = [p(B, "EUR", 5), p(C, "ECO", 7), p(A, "EUR", -5), p(UUID(int=4), "ECO", -7)]
    result = validate_transaction(postings)
    assert [(x.currency, x.account_id) for x in result] == sorted(
        (x.currency, x.account_id) for x in postings
    )
    assert result == validate_transaction(reversed(postings))


def test_multi_currency_transaction_balances_per_currency():
    with pytest.raises(UnbalancedTransaction) as caught:
        validate_transaction([p(A, "ECO", -10), p(B, "EUR", 10)])
    assert caught.value.extra["imbalances"] == {"ECO": -10, "EUR": 10}


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_postings_is_refused(count):
    with pytest.raises(TooFewPostings):
        validate_transaction([p(A, "ECO", 10)][:count])


def test_same_account_twice_is_refused_even_if_balanced():
    with pytest.raises(DuplicateAccountPosting):
        validate_transaction([p(A, "ECO", -10), p(A, "ECO", 10)])
    with pytest.raises(DuplicateAccountPosting):
        validate_transaction([p(A, "ECO", -10), p(B, "ECO", 15), p(A, "ECO", -5)])


@pytest.mark.parametrize("amount", [0, 1.5, True, "10", MAX_AMOUNT + 1, -MAX_AMOUNT - 1])
def test_posting_amount_must_be_a_nonzero_integer_in_range(amount):
    with pytest.raises(InvalidAmount):
        p(A, "ECO", amount)


def test_posting_needs_a_currency():
    with pytest.raises(InvalidAmount):
        p(A, "", 5)


def test_posting_needs_a_uuid_account():
    with pytest.raises(TypeError):
        p("acc-1", "ECO", 5)


@pytest.mark.parametrize("amount", [0, -1])
def test_check_positive_refuses_zero_and_negative(amount):
    with pytest.raises(InvalidAmount):
        check_positive(amount)


def test_reversal_negates_every_posting():
    original = validate_transaction([p(A, "ECO", -10), p(B, "ECO", 7), p(C, "ECO", 3)])
    reversal = reversal_of(original)
    assert sorted((x.account_id, x.amount) for x in reversal) == [(A, 10), (B, -7), (C, -3)]


def test_reversal_of_an_invalid_transaction_is_refused():
    with pytest.raises(UnbalancedTransaction):
        reversal_of([p(A, "ECO", -10), p(B, "ECO", 9)])


def test_transfer_builds_debit_then_credit():
    debit, credit = transfer(currency="ECO", source=A, destination=B, amount=25)
    assert (debit.account_id, debit.amount, credit.account_id, credit.amount) == (A, -25, B, 25)


def test_transfer_to_self_is_refused():
    with pytest.raises(DuplicateAccountPosting):
        transfer(currency="ECO", source=A, destination=A, amount=25)


def test_merge_sums_per_account_and_drops_zero_nets():
    merged = merge_postings(
        [p(A, "ECO", -10), p(A, "ECO", 4), p(B, "ECO", 6), p(C, "ECO", 3), p(C, "ECO", -3)]
    )
    assert merged == (p(A, "ECO", -6), p(B, "ECO", 6))


def test_imbalances_are_empty_when_balanced():
    assert imbalances([p(A, "ECO", -1), p(B, "ECO", 1)]) == {}


def test_canonical_order_sorts_by_currency_then_account():
    assert canonical_order([p(B, "EUR", 1), p(A, "EUR", 1), p(C, "ECO", 1)]) == (
        p(C, "ECO", 1),
        p(A, "EUR", 1),
        p(B, "EUR", 1),
    )
