"""What kind of money a currency is, and the rules its operator chose for it.

Rates are integers so they store exactly in the database and never meet a float:
basis points (1 bp = 0.01 %, 10 000 bp = 100 %) for issuance bonuses and reconversion fees,
parts per million (ppm, 1 000 000 = 100 %) for demurrage, whose rates are often fractions
of a percent per month. Rounding rules live next to the formulas (``conversion.py``,
``demurrage.py``).

Validation happens at construction so that no code ever holds contradictory rules, the
main one being that a time currency (hours given and received between people) can never be
converted to euros: an hour is not worth a fixed number of euros and converting it would
turn a time bank into a paid-work platform.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any

from services.ledger.currencies.errors import InvalidCurrencyRules

BP_DENOMINATOR = 10_000
"""Basis points in 100 %."""

PPM_DENOMINATOR = 1_000_000
"""Parts per million in 100 %."""

EURO_SCALE = 2
"""Euro cents: currencies issued against euros use the same scale, so 1 unit = 1 euro."""

DEFAULT_MAX_BACKDATING_DAYS = 31
"""How many days before today (UTC) a transaction's effective date may lie, by default."""
MAX_BACKDATING_DAYS = 3660
"""The widest backdating window a currency may allow: ten years, the books' retention."""

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")


class CurrencyKind(StrEnum):
    """The economic nature of a currency, which decides which rules may apply."""

    EURO_BACKED = "euro_backed"
    """Local currency issued 1:1 against euros kept in a guarantee fund (la Mesure, l'Eco)."""
    MUTUAL_CREDIT = "mutual_credit"
    """B2B credit lines between members; balances sum to zero (WIR, E-Barter)."""
    TIME = "time"
    """Hours exchanged in a time bank (Accorderies); never convertible."""
    VOUCHER = "voucher"
    """Earmarked programme credits on a card (M'Ra, OURA); merchants are paid in euros."""
    EUR = "eur"
    """Euros themselves, used to mirror the guarantee reserve and euro payouts."""


_CONVERTIBLE_KINDS = frozenset({CurrencyKind.EURO_BACKED, CurrencyKind.VOUCHER})
"""Only euro-backed money can go back to euros: anything else has no reserve to pay from."""

_EURO_SCALED_KINDS = _CONVERTIBLE_KINDS | {CurrencyKind.EUR}
"""Parity 1 unit = 1 euro is then 1 minor unit = 1 cent: no exchange-rate rounding at all."""

_CREDIT_KINDS = frozenset({CurrencyKind.MUTUAL_CREDIT, CurrencyKind.TIME})
"""Only currencies without a reserve may let balances go negative, or units would be unbacked."""


class DemurragePeriod(IntEnum):
    """Length of a demurrage period in calendar months; periods start on January 1st."""

    MONTH = 1
    QUARTER = 3
    HALF_YEAR = 6
    YEAR = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class DemurrageRule:
    """``rate_ppm`` of a positive balance is charged per ``period``, pro rata of days held."""

    rate_ppm: int
    period: DemurragePeriod

    def __post_init__(self) -> None:
        if not 0 < self.rate_ppm <= PPM_DENOMINATOR:
            raise InvalidCurrencyRules(
                "demurrage rate must be in (0, 1 000 000] ppm", rate_ppm=self.rate_ppm
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditLimitPolicy:
    """How far below zero accounts may go: a default and a maximum limit, and a global cap.

    ``max_total_debt`` caps the sum of all negative balances of the currency (None = no cap),
    which bounds how much money mutual credit can create at once.
    """

    default_limit: int = 0
    max_limit: int
    max_total_debt: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.default_limit <= self.max_limit:
            raise InvalidCurrencyRules(
                "credit limits need 0 <= default_limit <= max_limit",
                default_limit=self.default_limit,
                max_limit=self.max_limit,
            )
        if self.max_total_debt is not None and self.max_total_debt < 0:
            raise InvalidCurrencyRules("max_total_debt must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconversionFees:
    """Reconversion fee in basis points per merchant category, with a default for the rest.

    Categories are operator-defined strings (from the database), not code constants.
    """

    default_bp: int = 0
    by_category: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Freeze the mapping so a shared rules object cannot be changed behind our back.
        object.__setattr__(self, "by_category", MappingProxyType(dict(self.by_category)))
        for name, bp in (("default", self.default_bp), *self.by_category.items()):
            if not 0 <= bp < BP_DENOMINATOR:
                raise InvalidCurrencyRules(
                    "reconversion fees must be in [0, 10 000) bp", category=name, fee_bp=bp
                )

    def __hash__(self) -> int:
        # The mapping proxy is unhashable; rules objects are handy as cache keys.
        return hash((self.default_bp, tuple(sorted(self.by_category.items()))))

    def fee_bp(self, merchant_category: str | None) -> int:
        """Fee rate for a category; the default when the category is None or unlisted."""
        if merchant_category is None:
            return self.default_bp
        return self.by_category.get(merchant_category, self.default_bp)

    @property
    def is_free(self) -> bool:
        """True when no category pays any fee."""
        return self.default_bp == 0 and not any(self.by_category.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyRules:
    """Everything the ledger needs to know to accept or refuse movements of one currency.

    ``scale`` is the number of decimal digits of a minor unit (2 = cents, or hundredths of
    an hour for time). Amounts everywhere are integers in minor units. ``max_balance`` and
    ``monthly_load_cap`` apply to member (individual) accounts, as card programmes and
    e-money style rules require; None means no limit.
    """

    code: str
    kind: CurrencyKind
    scale: int = 2
    convertible: bool = False
    issuance_bonus_bp: int = 0
    reconversion_fees: ReconversionFees = field(default_factory=ReconversionFees)
    individual_reconversion: bool = False
    demurrage: DemurrageRule | None = None
    credit_limit: CreditLimitPolicy | None = None
    max_balance: int | None = None
    monthly_load_cap: int | None = None
    four_eyes_threshold: int | None = None
    """Issuances and reconversions of at least this many minor units wait for a second
    operator's approval (None: never)."""
    max_backdating_days: int = DEFAULT_MAX_BACKDATING_DAYS
    """A transaction may be dated at most this many days before today (UTC)."""

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code):
            raise InvalidCurrencyRules(
                "currency code must be 2-16 chars of A-Z, 0-9, _ starting with a letter",
                currency=self.code,
            )
        if not 0 <= self.scale <= 6:
            raise InvalidCurrencyRules("scale must be between 0 and 6", scale=self.scale)
        self._check_conversion()
        if self.kind in _EURO_SCALED_KINDS and self.scale != EURO_SCALE:
            raise InvalidCurrencyRules(
                "euros and currencies issued against them use 2 decimal places",
                currency=self.code,
                scale=self.scale,
            )
        if self.credit_limit is not None and self.kind not in _CREDIT_KINDS:
            raise InvalidCurrencyRules(
                "only mutual_credit and time currencies may allow negative balances",
                currency=self.code,
                kind=self.kind.value,
            )
        if self.demurrage is not None and self.kind is CurrencyKind.EUR:
            raise InvalidCurrencyRules("euros cannot melt", currency=self.code)
        for name in ("max_balance", "monthly_load_cap", "four_eyes_threshold"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidCurrencyRules(f"{name} must be positive", currency=self.code)
        if not 0 <= self.max_backdating_days <= MAX_BACKDATING_DAYS:
            raise InvalidCurrencyRules(
                f"max_backdating_days must be between 0 and {MAX_BACKDATING_DAYS}",
                currency=self.code,
            )

    def _check_conversion(self) -> None:
        if self.kind is CurrencyKind.TIME and self.convertible:
            raise InvalidCurrencyRules(
                "time currencies can never be converted to euros", currency=self.code
            )
        if self.convertible and self.kind not in _CONVERTIBLE_KINDS:
            raise InvalidCurrencyRules(
                "only euro_backed and voucher currencies can be convertible",
                currency=self.code,
                kind=self.kind.value,
            )
        if self.kind not in _CONVERTIBLE_KINDS and self.issuance_bonus_bp:
            raise InvalidCurrencyRules(
                "an issuance bonus needs a currency issued against euros", currency=self.code
            )
        if not self.convertible and (
            not self.reconversion_fees.is_free or self.individual_reconversion
        ):
            raise InvalidCurrencyRules(
                "reconversion settings need a convertible currency", currency=self.code
            )
        if not 0 <= self.issuance_bonus_bp <= BP_DENOMINATOR:
            raise InvalidCurrencyRules(
                "issuance bonus must be in [0, 10 000] bp", bonus_bp=self.issuance_bonus_bp
            )

    @property
    def issued_against_euros(self) -> bool:
        """True when units are created only against euros paid into the reserve."""
        return self.kind in _CONVERTIBLE_KINDS


def rules_from(code: str, kind: str, scale: int, rules: Mapping[Any, Any]) -> CurrencyRules:
    """Build (and so validate) a currency's rules from their stored JSON form."""
    fees = rules.get("reconversion_fees") or {}
    demurrage = rules.get("demurrage")
    credit = rules.get("credit_limit")
    return CurrencyRules(
        code=code,
        kind=CurrencyKind(kind),
        scale=scale,
        convertible=bool(rules.get("convertible", False)),
        issuance_bonus_bp=int(rules.get("issuance_bonus_bp", 0)),
        reconversion_fees=ReconversionFees(
            default_bp=int(fees.get("default_bp", 0)), by_category=fees.get("by_category") or {}
        ),
        individual_reconversion=bool(rules.get("individual_reconversion", False)),
        demurrage=DemurrageRule(
            rate_ppm=demurrage["rate_ppm"], period=DemurragePeriod(demurrage["period"])
        )
        if demurrage
        else None,
        credit_limit=CreditLimitPolicy(**credit) if credit else None,
        max_balance=rules.get("max_balance"),
        monthly_load_cap=rules.get("monthly_load_cap"),
        four_eyes_threshold=rules.get("four_eyes_threshold"),
        max_backdating_days=rules.get("max_backdating_days", DEFAULT_MAX_BACKDATING_DAYS),
    )
