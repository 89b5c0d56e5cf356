"""Budget envelopes: AP caps commitments, CP caps payments, payments never pass commitments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.funding.errors import FundingDomainError
from services.funding.programmes.errors import (
    DecommitExceedsUnpaidError,
    EnvelopeBelowUsageError,
    EnvelopeExceededError,
    InvalidAmountError,
    InvalidEnvelopeError,
    PaymentCreditsExceededError,
    PaymentExceedsCommitmentError,
)
from services.funding.programmes.rules.budget import (
    Commitment,
    Envelope,
    commit,
    decommit,
    pay,
    resize,
)

EUR_100K = 10_000_000


def test_commit_takes_from_the_envelope() -> None:
    envelope, commitment = commit(Envelope(ap_cents=EUR_100K, cp_cents=EUR_100K), 2_500_000)
    assert envelope.committed_cents == 2_500_000
    assert envelope.available_ap_cents == 7_500_000
    assert commitment == Commitment(amount_cents=2_500_000)


def test_commit_may_use_the_envelope_exactly() -> None:
    envelope, _ = commit(Envelope(ap_cents=EUR_100K, cp_cents=0), EUR_100K)
    assert envelope.available_ap_cents == 0


def test_commit_beyond_envelope_reports_remaining_amount() -> None:
    envelope = Envelope(ap_cents=EUR_100K, cp_cents=EUR_100K, committed_cents=9_000_000)
    with pytest.raises(EnvelopeExceededError) as caught:
        commit(envelope, 1_000_001)
    assert caught.value.status == 409
    assert caught.value.extra["remaining_cents"] == 1_000_000


@pytest.mark.parametrize("amount", [0, -5, 12.5, True])
def test_amounts_must_be_positive_integer_cents(amount: object) -> None:
    with pytest.raises(InvalidAmountError):
        commit(Envelope(ap_cents=EUR_100K, cp_cents=EUR_100K), amount)  # type: ignore[arg-type]


def test_pay_moves_money_on_envelope_and_commitment() -> None:
    envelope, commitment = commit(Envelope(ap_cents=EUR_100K, cp_cents=EUR_100K), 3_000_000)
    envelope, commitment = pay(envelope, commitment, 900_000)
    assert (envelope.paid_cents, commitment.paid_cents) == (900_000, 900_000)
    assert commitment.unpaid_cents == 2_100_000


def test_payment_beyond_its_commitment_is_refused() -> None:
    envelope, commitment = commit(Envelope(ap_cents=EUR_100K, cp_cents=EUR_100K), 3_000_000)
    with pytest.raises(PaymentExceedsCommitmentError) as caught:
        pay(envelope, commitment, 3_000_001)
    assert caught.value.extra["remaining_cents"] == 3_000_000


def test_payment_beyond_payment_credits_is_refused() -> None:
    envelope, commitment = commit(Envelope(ap_cents=EUR_100K, cp_cents=1_000_000), 3_000_000)
    with pytest.raises(PaymentCreditsExceededError) as caught:
        pay(envelope, commitment, 1_000_001)
    assert caught.value.extra["remaining_cents"] == 1_000_000


def test_decommit_releases_only_the_unpaid_part() -> None:
    envelope, commitment = commit(Envelope(ap_cents=EUR_100K, cp_cents=EUR_100K), 3_000_000)
    envelope, commitment = pay(envelope, commitment, 1_000_000)
    with pytest.raises(DecommitExceedsUnpaidError) as caught:
        decommit(envelope, commitment, 2_000_001)
    assert caught.value.extra["releasable_cents"] == 2_000_000
    envelope, commitment = decommit(envelope, commitment, 2_000_000)
    assert envelope.committed_cents == 1_000_000
    assert commitment == Commitment(amount_cents=1_000_000, paid_cents=1_000_000)


def test_resize_cannot_go_below_usage() -> None:
    envelope = Envelope(ap_cents=EUR_100K, cp_cents=EUR_100K, committed_cents=5, paid_cents=3)
    with pytest.raises(EnvelopeBelowUsageError):
        resize(envelope, ap_cents=4, cp_cents=EUR_100K)
    with pytest.raises(EnvelopeBelowUsageError):
        resize(envelope, ap_cents=EUR_100K, cp_cents=2)
    assert resize(envelope, ap_cents=5, cp_cents=3).available_ap_cents == 0


@pytest.mark.parametrize(
    "figures",
    [
        {"ap_cents": -1, "cp_cents": 0},
        {"ap_cents": 10, "cp_cents": 10, "committed_cents": 11},
        {"ap_cents": 10, "cp_cents": 10, "committed_cents": 5, "paid_cents": 6},
        {"ap_cents": 10, "cp_cents": 2, "committed_cents": 5, "paid_cents": 3},
        {"ap_cents": 10.0, "cp_cents": 10},
    ],
)
def test_inconsistent_envelopes_cannot_be_built(figures: dict[str, int]) -> None:
    with pytest.raises(InvalidEnvelopeError):
        Envelope(**figures)


def test_refused_operation_leaves_inputs_unchanged() -> None:
    envelope = Envelope(ap_cents=100, cp_cents=100, committed_cents=100)
    with pytest.raises(EnvelopeExceededError):
        commit(envelope, 1)
    assert envelope == Envelope(ap_cents=100, cp_cents=100, committed_cents=100)


_operation = st.one_of(
    st.tuples(st.just("commit"), st.integers(-10, 6_000), st.integers(0, 20)),
    st.tuples(st.just("pay"), st.integers(-10, 4_000), st.integers(0, 20)),
    st.tuples(st.just("decommit"), st.integers(-10, 4_000), st.integers(0, 20)),
    st.tuples(st.just("resize"), st.integers(-10, 30_000), st.integers(-10, 30_000)),
)


@settings(max_examples=200, deadline=None)
@given(
    ap=st.integers(0, 20_000),
    cp=st.integers(0, 20_000),
    operations=st.lists(_operation, max_size=60),
)
def test_random_budget_operations_never_break_ap_cp_invariants(
    ap: int, cp: int, operations: list[tuple[str, int, int]]
) -> None:
    envelope = Envelope(ap_cents=ap, cp_cents=cp)
    commitments: list[Commitment] = []
    for name, amount, extra in operations:
        try:
            if name == "commit":
                envelope, created = commit(envelope, amount)
                commitments.append(created)
            elif name == "resize":
                envelope = resize(envelope, ap_cents=amount, cp_cents=extra)
            elif commitments:
                index = extra % len(commitments)
                operation = pay if name == "pay" else decommit
                envelope, commitments[index] = operation(envelope, commitments[index], amount)
        except FundingDomainError as refused:
            # A refusal must name the rule broken, not trip over the envelope's own check.
            assert name == "resize" or not isinstance(refused, InvalidEnvelopeError)
        assert 0 <= envelope.paid_cents <= envelope.committed_cents <= envelope.ap_cents
        assert envelope.paid_cents <= envelope.cp_cents
        assert envelope.committed_cents == sum(c.amount_cents for c in commitments)
        assert envelope.paid_cents == sum(c.paid_cents for c in commitments)
        assert all(0 <= c.paid_cents <= c.amount_cents for c in commitments)
