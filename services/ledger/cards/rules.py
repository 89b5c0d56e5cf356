"""Card numbers and tokens: what identifies a card, and what the ledger keeps of it.

A keyed fingerprint (HMAC-SHA256 under a secret kept outside the database) and the last four
characters, never the number or the token: docs/decisions/ledger-card-fingerprints.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from services.ledger.cards.errors import InvalidCardNumber

_PAN = re.compile(r"^\d{12,19}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_SEPARATORS = re.compile(r"[ -]")


class CardKind(StrEnum):
    PAN = "pan"
    """A card number printed on a plastic card, with a Luhn check digit."""
    TOKEN = "token"
    """An opaque identifier (virtual card, wallet or transport-card token)."""


@dataclass(frozen=True, slots=True)
class CardIdentity:
    """A normalised card identifier; ``secret`` is what the holder presents, never stored."""

    kind: CardKind
    secret: str

    @property
    def last4(self) -> str:
        return self.secret[-4:]

    def fingerprint(self, key: bytes) -> str:
        """HMAC-SHA256 of kind and value under ``key``, hex: what the ledger stores."""
        message = f"{self.kind.value}:{self.secret}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()


def luhn_valid(digits: str) -> bool:
    """The ISO/IEC 7812 check digit: catches every single-digit typo at a terminal."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_number(raw: str) -> CardIdentity:
    """A PAN as typed or read (spaces and dashes allowed), checked and normalised."""
    digits = _SEPARATORS.sub("", raw)
    if not _PAN.fullmatch(digits) or not luhn_valid(digits):
        raise InvalidCardNumber("a card number has 12 to 19 digits and a valid Luhn check digit")
    return CardIdentity(CardKind.PAN, digits)


def card_token(raw: str) -> CardIdentity:
    """An opaque token: 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-'."""
    if not _TOKEN.fullmatch(raw):
        raise InvalidCardNumber("a card token has 16 to 128 characters of A-Z a-z 0-9 _ -")
    return CardIdentity(CardKind.TOKEN, raw)


def identify(*, number: str | None, token: str | None) -> CardIdentity:
    """Exactly one of a card number or a token."""
    if (number is None) == (token is None):
        raise InvalidCardNumber("give exactly one of card_number or token")
    return card_number(number) if number is not None else card_token(token or "")


def new_token() -> CardIdentity:
    """A fresh random token for a virtual card (256 bits, URL-safe)."""
    return CardIdentity(CardKind.TOKEN, secrets.token_urlsafe(32))
