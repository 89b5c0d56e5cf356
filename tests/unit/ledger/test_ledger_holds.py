from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from services.ledger.holds.errors import (
    CaptureExceedsHold,
    HoldExpired,
    HoldNotAuthorized,
    HoldNotExpired,
    InvalidHoldExpiry,
)
from services.ledger.holds.rules import (
    HoldStatus,
    authorize,
    capture,
    capture_postings,
    expire,
    void,
)
from services.ledger.transactions.errors import DuplicateAccountPosting, InvalidAmount

PAYER, PAYEE = UUID(int=1), UUID(int=2)
NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=7)


def new_hold(amount=1000):
    return authorize(
        payer=PAYER, payee=PAYEE, currency="ECO", amount=amount, expires_at=DEADLINE, now=NOW
    )


def test_authorized_hold_holds_its_full_amount():
    hold = new_hold()
    assert hold.status is HoldStatus.AUTHORIZED
    assert (hold.held, hold.released) == (1000, 0)


@pytest.mark.parametrize("amount", [0, -5])
def test_hold_amount_must_be_positive(amount):
    with pytest.raises(InvalidAmount):
        new_hold(amount)


def test_hold_deadline_must_be_in_the_future():
    with pytest.raises(InvalidHoldExpiry):
        authorize(payer=PAYER, payee=PAYEE, currency="ECO", amount=1, expires_at=NOW, now=NOW)


def test_hold_on_self_is_refused():
    with pytest.raises(DuplicateAccountPosting):
        authorize(payer=PAYER, payee=PAYER, currency="ECO", amount=1, expires_at=DEADLINE, now=NOW)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        authorize(
            payer=PAYER,
            payee=PAYEE,
            currency="ECO",
            amount=1,
            expires_at=datetime(2030, 1, 1),
            now=NOW,
        )


def test_full_capture_by_default():
    hold = capture(new_hold(), now=NOW)
    assert (hold.status, hold.captured, hold.held, hold.released) == (
        HoldStatus.CAPTURED,
        1000,
        0,
        0,
    )


def test_partial_capture_releases_the_rest():
    hold = capture(new_hold(), now=NOW, amount=700)
    assert (hold.captured, hold.released) == (700, 300)


def test_capture_above_authorized_is_refused():
    with pytest.raises(CaptureExceedsHold):
        capture(new_hold(), now=NOW, amount=1001)


@pytest.mark.parametrize("amount", [0, -1])
def test_capture_of_non_positive_amount_is_refused(amount):
    with pytest.raises(InvalidAmount):
        capture(new_hold(), now=NOW, amount=amount)


def test_capture_twice_is_refused():
    hold = capture(new_hold(), now=NOW, amount=100)
    with pytest.raises(HoldNotAuthorized):
        capture(hold, now=NOW, amount=100)


def test_capture_at_deadline_is_refused():
    with pytest.raises(HoldExpired):
        capture(new_hold(), now=DEADLINE)


def test_void_releases_everything():
    hold = void(new_hold(), now=NOW)
    assert (hold.status, hold.held, hold.released) == (HoldStatus.VOIDED, 0, 1000)


def test_void_after_capture_is_refused():
    with pytest.raises(HoldNotAuthorized):
        void(capture(new_hold(), now=NOW), now=NOW)


def test_void_after_deadline_is_refused():
    with pytest.raises(HoldExpired):
        void(new_hold(), now=DEADLINE + timedelta(seconds=1))


def test_expire_at_deadline_releases_everything():
    hold = expire(new_hold(), now=DEADLINE)
    assert (hold.status, hold.released) == (HoldStatus.EXPIRED, 1000)


def test_expire_before_deadline_is_refused():
    with pytest.raises(HoldNotExpired):
        expire(new_hold(), now=DEADLINE - timedelta(microseconds=1))


def test_expire_of_voided_hold_is_refused():
    with pytest.raises(HoldNotAuthorized):
        expire(void(new_hold(), now=NOW), now=DEADLINE)


def test_refused_transition_leaves_hold_unchanged():
    hold = new_hold()
    with pytest.raises(CaptureExceedsHold):
        capture(hold, now=NOW, amount=5000)
    assert hold.status is HoldStatus.AUTHORIZED


def test_capture_postings_move_captured_amount_from_payer_to_payee():
    debit, credit = capture_postings(capture(new_hold(), now=NOW, amount=400))
    assert (debit.account_id, debit.amount, credit.account_id, credit.amount) == (
        PAYER,
        -400,
        PAYEE,
        400,
    )


def test_uncaptured_hold_has_no_postings():
    with pytest.raises(HoldNotAuthorized):
        capture_postings(new_hold())
