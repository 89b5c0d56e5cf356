"""Pure rules of clearing: fees and their rounding, the legs of a payment and of a
settlement, periods, net positions, the invariant, and the settlement report as CSV.

Parity: euro-backed currencies are all issued 1 unit = 1 euro with two decimals
(`services.ledger.currencies.rules.currency`), so a clearing payment moves the same number
of minor units out of one currency and into the other: no exchange rate, no rounding but
the fees'.

Fees (each currency's clearing terms; rates in basis points, minimums in cents):

- the payer's currency charges ``payer_fee`` *on top* of the amount, to the payer;
- the payee's currency *deducts* ``payee_fee`` from what its merchant receives;
- each is ``max(minimum, amount × bp / 10 000)``, the product rounded to the cent half up
  (0.5 cent and above rounds up): a fee is never a fraction of a cent, and the same amount
  always pays the same fee whatever the direction of the payment.

Sign convention: a currency's *net clearing position* is minus its clearing account's
balance. The clearing account of the paying side receives the units its members spent
elsewhere (positive balance: the currency owes euros, position negative); the receiving
side's clearing account goes negative by what it paid its merchants (it is owed euros,
position positive). So at every instant, per currency:

    reserve + net clearing position = circulation

where circulation is every unit held outside the issuer and the clearing account.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from services.ledger.clearing.errors import (
    FeeExceedsAmount,
    InvalidClearingPeriod,
    InvalidClearingTerms,
    PeriodNotEnded,
    SameCurrency,
)
from services.ledger.transactions.rules import Posting, merge_postings
from shared import csv_safety

BP = 10_000
"""Basis points in 100 %."""

_PERIOD = re.compile(r"^([1-9]\d{3})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class Fees:
    """A currency's clearing fees: on top for its payers, deducted for its merchants."""

    payer_bp: int = 0
    payer_min: int = 0
    payee_bp: int = 0
    payee_min: int = 0

    def __post_init__(self) -> None:
        for bp in (self.payer_bp, self.payee_bp):
            if not 0 <= bp < BP:
                raise InvalidClearingTerms("un taux de frais est compris entre 0 et 9 999 pb")
        if self.payer_min < 0 or self.payee_min < 0:
            raise InvalidClearingTerms("un minimum de frais n'est jamais négatif")

    @property
    def free(self) -> bool:
        return not (self.payer_bp or self.payer_min or self.payee_bp or self.payee_min)


def fee(amount: int, bp: int, minimum: int) -> int:
    """``max(minimum, amount × bp / 10 000)``, the product rounded half up to the cent."""
    if bp == 0 and minimum == 0:
        return 0
    return max(minimum, (amount * bp * 2 + BP) // (2 * BP))


@dataclass(frozen=True, slots=True)
class Side:
    """The accounts of one currency in a clearing movement."""

    currency: str
    clearing: UUID
    fee_account: UUID | None


@dataclass(frozen=True, slots=True)
class Payment:
    """A cross-currency payment's figures and its legs (canonical order)."""

    amount: int
    payer_fee: int
    payee_fee: int
    legs: tuple[Posting, ...]


def payment(
    *,
    payer: UUID,
    payee: UUID,
    amount: int,
    payer_side: Side,
    payee_side: Side,
    payer_fees: Fees,
    payee_fees: Fees,
) -> Payment:
    """The legs of paying ``amount`` from ``payer`` (payer side's currency) to ``payee``:
    each currency's legs sum to zero, the two clearing accounts move by ``amount``."""
    if payer_side.currency == payee_side.currency:
        raise SameCurrency("payeur et bénéficiaire tiennent la même monnaie : faites un virement")
    out_fee = fee(amount, payer_fees.payer_bp, payer_fees.payer_min)
    in_fee = fee(amount, payee_fees.payee_bp, payee_fees.payee_min)
    if in_fee >= amount:
        raise FeeExceedsAmount(
            f"les frais de {payee_side.currency} ({in_fee}) absorberaient tout le montant",
            fee=in_fee,
            amount=amount,
        )
    a, b = payer_side.currency, payee_side.currency
    legs = [
        Posting(account_id=payer, currency=a, amount=-(amount + out_fee)),
        Posting(account_id=payer_side.clearing, currency=a, amount=amount),
        Posting(account_id=payee_side.clearing, currency=b, amount=-amount),
        Posting(account_id=payee, currency=b, amount=amount - in_fee),
    ]
    if out_fee:
        assert payer_side.fee_account is not None  # the terms' CHECK: fees need an account
        legs.append(Posting(account_id=payer_side.fee_account, currency=a, amount=out_fee))
    if in_fee:
        assert payee_side.fee_account is not None
        legs.append(Posting(account_id=payee_side.fee_account, currency=b, amount=in_fee))
    return Payment(amount, out_fee, in_fee, merge_postings(legs))


@dataclass(frozen=True, slots=True)
class Reserve:
    """A euro-backed currency's reserve accounts (`currencies` reserve configuration)."""

    currency: str
    issuer: UUID
    reserve: UUID
    external: UUID
    euro_currency: str


def settlement_legs(
    *, payer: Reserve, payer_clearing: UUID, payee: Reserve, payee_clearing: UUID, amount: int
) -> tuple[Posting, ...]:
    """Settle ``amount`` owed by ``payer``'s currency to ``payee``'s.

    The payer side retires the units its clearing account collected (clearing → issuer)
    and its reserve pays the euros out (reserve → bank outside); the payee side receives
    them (bank outside → reserve) and issues the units its clearing account had advanced
    (issuer → clearing). Each currency's reserve still equals its issued units, and both
    clearing positions move back towards zero by ``amount``. Where both reserves use the
    same euro account for the bank outside, its two legs cancel (`merge_postings`): the
    euros go straight from one reserve to the other."""
    return merge_postings(
        [
            Posting(account_id=payer_clearing, currency=payer.currency, amount=-amount),
            Posting(account_id=payer.issuer, currency=payer.currency, amount=amount),
            Posting(account_id=payer.reserve, currency=payer.euro_currency, amount=-amount),
            Posting(account_id=payer.external, currency=payer.euro_currency, amount=amount),
            Posting(account_id=payee.external, currency=payee.euro_currency, amount=-amount),
            Posting(account_id=payee.reserve, currency=payee.euro_currency, amount=amount),
            Posting(account_id=payee.issuer, currency=payee.currency, amount=-amount),
            Posting(account_id=payee_clearing, currency=payee.currency, amount=amount),
        ]
    )


def period_of(day: date) -> date:
    """The clearing period (calendar month) of a day, as its first day."""
    return day.replace(day=1)


def parse_period(text: str) -> date:
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise InvalidClearingPeriod("une période s'écrit AAAA-MM", period=text)
    return date(int(match[1]), int(match[2]), 1)


def period_text(period: date) -> str:
    return f"{period:%Y-%m}"


def check_period_ended(period: date, today: date) -> None:
    if period >= period_of(today):
        raise PeriodNotEnded(
            f"la période {period_text(period)} n'est pas terminée", period=period_text(period)
        )


def pair(a: str, b: str) -> tuple[str, str]:
    """A pair of currencies in one order (the lower code first)."""
    if a == b:
        raise SameCurrency("une compensation se fait entre deux monnaies différentes")
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True, slots=True)
class Net:
    """What one currency of a pair owes the other for a period."""

    payer: str | None
    payee: str | None
    amount: int


def net(low: str, high: str, low_to_high: int, high_to_low: int) -> Net:
    """Payments ``low → high`` make ``low`` owe ``high``; the difference is settled."""
    if low_to_high > high_to_low:
        return Net(low, high, low_to_high - high_to_low)
    if high_to_low > low_to_high:
        return Net(high, low, high_to_low - low_to_high)
    return Net(None, None, 0)


def invariant(*, issued: int, reserve: int, clearing_balance: int, held: int) -> dict[str, Any]:
    """The clearing invariant of a currency from its balances: ``issued`` (minus the
    issuer's balance), the reserve, the clearing account's balance and ``held``, the sum
    of every other account's balance (circulation counted account by account)."""
    position = -clearing_balance
    return {
        "units_issued": issued,
        "reserve_balance": reserve,
        "net_clearing_position": position,
        "circulation": held,
        "holds": reserve + position == held and issued == reserve,
    }


REPORT_COLUMNS = (
    ("period", "Période"),
    ("currency_low", "Monnaie A"),
    ("currency_high", "Monnaie B"),
    ("low_to_high", "Paiements A vers B (centimes)"),
    ("high_to_low", "Paiements B vers A (centimes)"),
    ("payments", "Nombre de paiements"),
    ("payer_currency", "Monnaie débitrice"),
    ("payee_currency", "Monnaie créancière"),
    ("amount", "Solde réglé en euros (centimes)"),
    ("transaction_id", "Transaction de règlement"),
    ("settled_by", "Réglé par"),
    ("settled_at", "Réglé le"),
)
"""The settlement report's columns: JSON field and French CSV header."""


def report_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The settlements as CSV with French headers; text cells a spreadsheet would run as
    formulas are neutralised (`shared.csv_safety`), amounts stay numbers (cents)."""
    buffer = io.StringIO()
    writer = csv_safety.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _, header in REPORT_COLUMNS])
    for row in rows:
        writer.writerow(["" if row[k] is None else row[k] for k, _ in REPORT_COLUMNS])
    return buffer.getvalue()
