"""Card identities: numbers are checked and normalised, and only a keyed fingerprint of
them is ever derived for storage."""

from __future__ import annotations

import pytest

from services.ledger.cards.errors import InvalidCardNumber
from services.ledger.cards.rules import (
    CardKind,
    card_number,
    card_token,
    identify,
    luhn_valid,
    new_token,
)

PAN = "4970101234567893"


def test_luhn_accepts_a_valid_number_and_catches_any_single_digit_typo() -> None:
    assert luhn_valid(PAN)
    for position in range(len(PAN)):
        for digit in "0123456789":
            if digit != PAN[position]:
                typo = PAN[:position] + digit + PAN[position + 1 :]
                assert not luhn_valid(typo), typo


def test_card_numbers_are_normalised_before_fingerprinting() -> None:
    spaced = card_number("4970 1012-3456 7893")
    assert spaced == card_number(PAN)
    assert spaced.kind is CardKind.PAN and spaced.last4 == "7893"


def test_the_fingerprint_depends_on_the_key_and_never_contains_the_number() -> None:
    card = card_number(PAN)
    one, two = card.fingerprint(b"key-1"), card.fingerprint(b"key-2")
    assert one != two and len(one) == 64
    assert PAN not in one
    assert card.fingerprint(b"key-1") == one


def test_a_token_and_a_number_with_the_same_characters_do_not_collide() -> None:
    digits = "1234567890123452"
    assert luhn_valid(digits)
    assert card_number(digits).fingerprint(b"k") != card_token(digits).fingerprint(b"k")


@pytest.mark.parametrize(
    "raw", ["", "4970101234567890", "49701012345", "4970a01234567893", "4" * 20]
)
def test_malformed_card_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidCardNumber):
        card_number(raw)


@pytest.mark.parametrize("raw", ["short", "has spaces in it!!", "x" * 129, "tok#en-0123456789"])
def test_malformed_tokens_are_refused(raw: str) -> None:
    with pytest.raises(InvalidCardNumber):
        card_token(raw)


def test_exactly_one_of_number_or_token_identifies_a_card() -> None:
    with pytest.raises(InvalidCardNumber):
        identify(number=None, token=None)
    with pytest.raises(InvalidCardNumber):
        identify(number=PAN, token="t" * 20)
    assert identify(number=None, token="t" * 20).kind is CardKind.TOKEN


def test_generated_tokens_are_valid_and_distinct() -> None:
    tokens = {new_token().secret for _ in range(100)}
    assert len(tokens) == 100
    assert all(card_token(t) for t in tokens)
