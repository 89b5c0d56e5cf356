"""Issuance (euros in, local units out) and reconversion (local units in, euros out).

A euro-backed local currency is worth its reserve: every unit in circulation matches one
euro in the guarantee fund, mirrored in the ledger by a ``reserve`` account in euros. So
each conversion is one transaction with two balanced legs:

Issuance of ``E`` euro cents to an account, with bonus ``B``::

    EUR    euro_external -E      euro_reserve +E          (euros come in)
    local  issuer        -E      account      +E + B      (units are created 1:1)
           bonus_fund    -B                               (the bonus moves existing units)

Reconversion of ``U`` units with fee ``F``, paying out ``P = U - F`` euros::

    local  account       -U      issuer +P   fee_fund +F  (P units destroyed, F kept)
    EUR    euro_reserve  -P      euro_external +P         (euros go out)

Units in circulation (= minus the issuer's balance) and the reserve thus always move by the
same amount, which is the invariant ``check_reserve`` states. ``euro_external`` is the euro
account on the far side of the reserve (an issuer-type mirror of the bank, or a payable).
The fee is kept in local units in the operator's fund: it stays backed and can be spent
locally, which is the point of the currency.

Rounding never rewards splitting one operation into many: the bonus rounds down, the fee
rounds up (a non-zero fee rate always costs at least one minor unit).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from services.ledger.accounts.rules import AccountType
from services.ledger.currencies.errors import (
    ConversionNotAllowed,
    CurrencyNotConvertible,
    FundAccountRequired,
    ReconversionForbidden,
    ReconversionTooSmall,
    ReserveInvariantViolated,
)
from services.ledger.currencies.rules.currency import BP_DENOMINATOR, CurrencyKind, CurrencyRules
from services.ledger.transactions.rules import Posting, check_positive, validate_transaction

EUR = "EUR"
"""Default code of the euro currency, overridable where the database names it otherwise."""


@dataclass(frozen=True, slots=True)
class Conversion:
    """The postings of one issuance or reconversion, and what they change."""

    postings: tuple[Posting, ...]
    circulation_change: int
    """Signed change of units in circulation; always equals ``reserve_change``."""
    reserve_change: int
    """Signed change of the euro reserve."""
    bonus: int = 0
    fee: int = 0


@dataclass(frozen=True, slots=True)
class ReserveDrift:
    """How far the ledger's reserve is from circulation, and the bank from the ledger.

    Positive drifts mean more euros than needed (harmless surplus); negative drifts mean
    units are not fully backed and need the operator's attention.
    """

    units_in_circulation: int
    reserve_balance: int
    reported_bank_balance: int

    @property
    def ledger_drift(self) -> int:
        """Reserve account minus units in circulation; zero whenever the ledger is sound."""
        return self.reserve_balance - self.units_in_circulation

    @property
    def bank_drift(self) -> int:
        """Bank statement minus reserve account; zero when the bank and the ledger agree."""
        return self.reported_bank_balance - self.reserve_balance

    @property
    def balanced(self) -> bool:
        """True when circulation, reserve and bank all agree."""
        return self.ledger_drift == 0 and self.bank_drift == 0


def issuance_bonus(rules: CurrencyRules, euros: int) -> int:
    """Bonus units for ``euros`` cents issued: floor(euros * bonus_bp / 10 000)."""
    return check_positive(euros) * rules.issuance_bonus_bp // BP_DENOMINATOR


def reconversion_fee(
    rules: CurrencyRules, units: int, *, merchant_category: str | None = None
) -> int:
    """Fee on reconverting ``units``: ceil(units * fee_bp / 10 000) for the category."""
    fee_bp = rules.reconversion_fees.fee_bp(merchant_category)
    return -(-check_positive(units) * fee_bp // BP_DENOMINATOR)


def issue(
    *,
    rules: CurrencyRules,
    euros: int,
    account: UUID,
    issuer: UUID,
    euro_external: UUID,
    euro_reserve: UUID,
    bonus_fund: UUID | None = None,
    euro_currency: str = EUR,
) -> Conversion:
    """Postings that issue units for ``euros`` cents paid in, plus the currency's bonus."""
    if not rules.issued_against_euros:
        raise ConversionNotAllowed(
            f"{rules.kind.value} currencies are not issued against euros",
            currency=rules.code,
            kind=rules.kind.value,
        )
    bonus = issuance_bonus(rules, euros)
    if bonus and bonus_fund is None:
        raise FundAccountRequired("name the fund that pays the issuance bonus")
    legs = [
        Posting(account_id=euro_external, currency=euro_currency, amount=-euros),
        Posting(account_id=euro_reserve, currency=euro_currency, amount=euros),
        Posting(account_id=issuer, currency=rules.code, amount=-euros),
        Posting(account_id=account, currency=rules.code, amount=euros + bonus),
    ]
    if bonus and bonus_fund is not None:
        legs.append(Posting(account_id=bonus_fund, currency=rules.code, amount=-bonus))
    # No merging: an account named twice (say reserve = external) must be refused, not netted.
    postings = validate_transaction(legs)
    return Conversion(postings, circulation_change=euros, reserve_change=euros, bonus=bonus)


def check_reconversion_allowed(rules: CurrencyRules, account_type: AccountType) -> None:
    """Refuse reconversion for non-convertible currencies and for forbidden account types."""
    if not rules.convertible:
        raise ConversionNotAllowed(
            f"currency {rules.code} cannot be converted to euros",
            currency=rules.code,
            kind=rules.kind.value,
        )
    if account_type is AccountType.MERCHANT:
        return
    if account_type is AccountType.MEMBER and rules.individual_reconversion:
        return
    raise ReconversionForbidden(
        f"{account_type.value} accounts may not reconvert {rules.code}",
        currency=rules.code,
        account_type=account_type.value,
    )


def reconvert(
    *,
    rules: CurrencyRules,
    units: int,
    account: UUID,
    account_type: AccountType,
    issuer: UUID,
    euro_reserve: UUID,
    euro_external: UUID,
    merchant_category: str | None = None,
    fee_fund: UUID | None = None,
    euro_currency: str = EUR,
) -> Conversion:
    """Postings that turn ``units`` of an account back into euros, minus the category fee."""
    check_reconversion_allowed(rules, account_type)
    fee = reconversion_fee(rules, units, merchant_category=merchant_category)
    payout = units - fee
    if payout <= 0:
        raise ReconversionTooSmall(f"fee {fee} leaves nothing of {units}", fee=fee)
    if fee and fee_fund is None:
        raise FundAccountRequired("name the fund that receives the reconversion fee")
    legs = [
        Posting(account_id=account, currency=rules.code, amount=-units),
        Posting(account_id=issuer, currency=rules.code, amount=payout),
        Posting(account_id=euro_reserve, currency=euro_currency, amount=-payout),
        Posting(account_id=euro_external, currency=euro_currency, amount=payout),
    ]
    if fee and fee_fund is not None:
        legs.append(Posting(account_id=fee_fund, currency=rules.code, amount=fee))
    return Conversion(
        validate_transaction(legs),
        circulation_change=-payout,
        reserve_change=-payout,
        fee=fee,
    )


def check_reserve(*, units_in_circulation: int, reserve_balance: int) -> None:
    """Refuse any state where units in circulation differ from the euro reserve."""
    if units_in_circulation != reserve_balance:
        raise ReserveInvariantViolated(
            f"{units_in_circulation} units in circulation, {reserve_balance} in reserve",
            units_in_circulation=units_in_circulation,
            reserve_balance=reserve_balance,
        )


def reserve_drift(
    *, units_in_circulation: int, reserve_balance: int, reported_bank_balance: int
) -> ReserveDrift:
    """Compare circulation, the ledger's reserve and the bank's figure, for reconciliation."""
    return ReserveDrift(
        units_in_circulation=units_in_circulation,
        reserve_balance=reserve_balance,
        reported_bank_balance=reported_bank_balance,
    )


# --- euro amounts paid in a currency (grant tranches) -----------------------------------------

EURO_PEGGED = frozenset({CurrencyKind.EURO_BACKED, CurrencyKind.VOUCHER, CurrencyKind.EUR})
"""Currencies worth one euro a unit: euro-backed units are issued 1:1 against the guarantee
fund, voucher credits are euro-valued, and the euro is itself. Mutual credit and hours
have no euro rate: a euro amount cannot be paid in them."""
EURO_RATE = "1"
ROUNDING = "half-even"


@dataclass(frozen=True)
class EuroPayment:
    """A euro amount in a currency's minor units, with the rate and rounding used (stored on
    the payment, so the sums of a programme never drift by a cent)."""

    euro_cents: int
    units: int
    rate: str
    rounding: str


def units_for_euro_cents(rules: CurrencyRules, euro_cents: int) -> EuroPayment:
    """``euro_cents`` in ``rules``' minor units, at one unit per euro, rounded half-even
    when the currency counts coarser than cents; refused for a currency without a euro
    rate, or when the amount rounds to nothing."""
    if rules.kind not in EURO_PEGGED:
        raise CurrencyNotConvertible(
            f"{rules.code} is a {rules.kind.value} currency: it has no euro rate, so a euro "
            "amount cannot be paid in it",
            currency=rules.code,
        )
    exact = Decimal(euro_cents) * Decimal(10) ** rules.scale / 100
    units = int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))
    if units <= 0:
        raise CurrencyNotConvertible(
            f"{euro_cents} euro cents round to no unit of {rules.code}", currency=rules.code
        )
    return EuroPayment(euro_cents=euro_cents, units=units, rate=EURO_RATE, rounding=ROUNDING)
