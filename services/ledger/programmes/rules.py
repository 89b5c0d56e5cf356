"""Earmarked credits of voucher programmes (M'Ra, OURA-style youth and transport cards).

A programme grants a beneficiary credits in *lots*: each lot has a funder (the region, a
département, a sponsor), an amount left, an expiry, and optionally the categories it may
pay for (a books credit, a sport credit). A purchase is allowed only at an approved
merchant, in an allowed category, within the beneficiary's cap for that category, and is
paid from usable lots.

Decisions:
- Lots are consumed earliest expiry first, ties broken by lot id (UUIDv7 ids are time
  ordered, so the oldest grant goes first). Why: it spends the money most at risk of being
  lost first, which is what the beneficiary would choose.
- A lot is expired at and after ``expires_at`` (same convention as holds): it cannot pay, and
  the expiry sweep returns what is left to the programme fund.
- Each draw names its lot and funder, so reports can say which funder paid for what.
- The beneficiary's ledger balance in the voucher currency equals the sum of its lots'
  ``remaining``; lots are the sub-ledger that says whose money it is and until when.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from uuid import UUID

from services.ledger.instants import require_aware
from services.ledger.programmes.errors import (
    CategoryCapExceeded,
    CategoryNotAllowed,
    InsufficientVoucherCredit,
    InvalidProgrammeRules,
    MerchantNotApproved,
)
from services.ledger.transactions.errors import InvalidAmount
from services.ledger.transactions.rules import (
    Posting,
    check_positive,
    transfer,
    validate_transaction,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeRules:
    """Where and on what a programme's credits may be spent, and per-beneficiary caps."""

    approved_merchants: frozenset[UUID]
    allowed_categories: frozenset[str]
    category_caps: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "category_caps", MappingProxyType(dict(self.category_caps)))
        if not self.allowed_categories:
            raise InvalidProgrammeRules("a programme allows at least one category")
        stray = sorted(set(self.category_caps) - self.allowed_categories)
        if stray:
            raise InvalidProgrammeRules("caps on categories that are not allowed", stray=stray)
        if any(cap <= 0 for cap in self.category_caps.values()):
            raise InvalidProgrammeRules("category caps must be positive")

    def __hash__(self) -> int:
        # The mapping proxy is unhashable; rules objects are handy as cache keys.
        caps = tuple(sorted(self.category_caps.items()))
        return hash((self.approved_merchants, self.allowed_categories, caps))


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditLot:
    """Credits granted by ``funder``, ``remaining`` of them usable until ``expires_at``."""

    lot_id: UUID
    funder: UUID
    remaining: int
    expires_at: datetime
    categories: frozenset[str] | None = None
    """Categories this lot may pay for; None means any category the programme allows."""

    def __post_init__(self) -> None:
        require_aware(self.expires_at)
        if isinstance(self.remaining, bool) or self.remaining < 0:
            raise InvalidAmount("a lot cannot hold a negative amount", lot=str(self.lot_id))

    def is_expired(self, now: datetime) -> bool:
        """True at and after the lot's expiry."""
        return require_aware(now) >= self.expires_at

    def pays_for(self, category: str) -> bool:
        """True if this lot is earmarked for ``category`` (or not earmarked at all)."""
        return self.categories is None or category in self.categories


@dataclass(frozen=True, slots=True)
class LotDraw:
    """An amount taken from one lot, with the funder who paid it."""

    lot_id: UUID
    funder: UUID
    amount: int


@dataclass(frozen=True, slots=True)
class Consumption:
    """Draws taken, and every lot afterwards (in the order given)."""

    draws: tuple[LotDraw, ...]
    lots: tuple[CreditLot, ...]

    @property
    def total(self) -> int:
        """Sum of the draws."""
        return sum(draw.amount for draw in self.draws)


def check_purchase(
    *,
    rules: ProgrammeRules,
    merchant: UUID,
    category: str,
    amount: int,
    spent_in_category: int,
) -> None:
    """Refuse a purchase at an unapproved merchant, in a category not allowed, or over cap.

    ``spent_in_category`` is what the beneficiary already spent in that category over the
    window the programme caps (the caller picks the window).
    """
    check_positive(amount)
    if merchant not in rules.approved_merchants:
        raise MerchantNotApproved(merchant=str(merchant))
    if category not in rules.allowed_categories:
        raise CategoryNotAllowed(category=category)
    cap = rules.category_caps.get(category)
    if cap is not None and spent_in_category + amount > cap:
        raise CategoryCapExceeded(
            f"{category}: {spent_in_category} spent, {amount} more would pass {cap}",
            category=category,
            spent=spent_in_category,
            cap=cap,
        )


def _fifo_key(lot: CreditLot) -> tuple[datetime, UUID]:
    return lot.expires_at, lot.lot_id


def usable_lots(
    lots: Iterable[CreditLot], *, category: str, now: datetime
) -> tuple[CreditLot, ...]:
    """Unexpired, non-empty lots that pay for ``category``, in consumption order."""
    found = (
        lot
        for lot in lots
        if lot.remaining > 0 and not lot.is_expired(now) and lot.pays_for(category)
    )
    return tuple(sorted(found, key=_fifo_key))


def consume_lots(
    lots: Iterable[CreditLot], *, amount: int, category: str, now: datetime
) -> Consumption:
    """Take ``amount`` from usable lots, earliest expiry first, or refuse if they fall short."""
    check_positive(amount)
    all_lots = tuple(lots)
    if len({lot.lot_id for lot in all_lots}) != len(all_lots):
        raise ValueError("lot ids must be unique")
    left = amount
    taken: dict[UUID, int] = {}
    draws: list[LotDraw] = []
    for lot in usable_lots(all_lots, category=category, now=now):
        if left == 0:
            break
        take = min(lot.remaining, left)
        taken[lot.lot_id] = take
        draws.append(LotDraw(lot_id=lot.lot_id, funder=lot.funder, amount=take))
        left -= take
    if left:
        raise InsufficientVoucherCredit(
            f"{amount - left} usable for {category}, {amount} asked",
            usable=amount - left,
            requested=amount,
            category=category,
        )
    after = tuple(
        replace(lot, remaining=lot.remaining - taken[lot.lot_id]) if lot.lot_id in taken else lot
        for lot in all_lots
    )
    return Consumption(draws=tuple(draws), lots=after)


def sweep_expired(lots: Iterable[CreditLot], *, now: datetime) -> Consumption:
    """Empty every expired lot that still holds credit; the draws go back to the programme."""
    all_lots = tuple(lots)
    expired = sorted(
        (lot for lot in all_lots if lot.remaining > 0 and lot.is_expired(now)), key=_fifo_key
    )
    swept = {lot.lot_id for lot in expired}
    return Consumption(
        draws=tuple(LotDraw(lot_id=x.lot_id, funder=x.funder, amount=x.remaining) for x in expired),
        lots=tuple(replace(lot, remaining=0) if lot.lot_id in swept else lot for lot in all_lots),
    )


def purchase_postings(
    *, currency: str, beneficiary: UUID, merchant: UUID, consumption: Consumption
) -> tuple[Posting, Posting]:
    """The transaction paying a merchant what was drawn from the beneficiary's lots."""
    return transfer(
        currency=currency, source=beneficiary, destination=merchant, amount=consumption.total
    )


def expiry_postings(
    *, currency: str, beneficiary: UUID, programme_fund: UUID, sweep: Consumption
) -> tuple[Posting, ...]:
    """The transaction returning swept credit to the programme fund; none if nothing expired."""
    if sweep.total == 0:
        return ()
    return validate_transaction(
        transfer(
            currency=currency, source=beneficiary, destination=programme_fund, amount=sweep.total
        )
    )
