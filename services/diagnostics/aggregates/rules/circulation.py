"""Local currency circulation indicators computed from the ledger's transfer records.

One call works on the records of **one currency** (the caller filters). Amounts are
integer minor units of that currency (cents for a euro-backed currency). Each record says
who paid whom, where each party is located, when, and why:

* ``issuance``: euros came in, units are credited to the payee (a member); the payer is
  the issuing account, outside circulation;
* ``payment``: a member pays another member;
* ``reconversion``: a member (usually a merchant) hands units back for euros; the payee is
  the operator's account, outside circulation.

Units "in circulation" are those held by member accounts: Σ issuance − Σ reconversion, and
for a territory T, what T's accounts hold. Records at the same instant are applied in the
order given (the ledger's posting order). All datetimes must be comparable (use aware UTC).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from services.diagnostics.errors import InvalidInput, UndefinedIndicator

_TICK = timedelta(microseconds=1)


class TransferKind(StrEnum):
    """Why units moved."""

    ISSUANCE = "issuance"
    PAYMENT = "payment"
    RECONVERSION = "reconversion"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    """One ledger movement of a local currency (amount in minor units, > 0)."""

    payer_account: str
    payee_account: str
    payer_territory: str | None
    payee_territory: str | None
    amount: int
    at: datetime
    kind: TransferKind

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", TransferKind(self.kind))
        except ValueError:
            raise InvalidInput(f"unknown transfer kind {self.kind!r}") from None
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise InvalidInput(f"transfer amount must be a positive integer (got {self.amount})")


def _check_period(start: datetime, end: datetime) -> None:
    if not start < end:
        raise InvalidInput("the period must end after it starts", start=str(start), end=str(end))


def _ordered(transfers: Iterable[Transfer]) -> list[Transfer]:
    return sorted(transfers, key=lambda transfer: transfer.at)


def _circulation_delta(transfer: Transfer, territory: str | None) -> int:
    """Change in units held by members (in ``territory`` if given) caused by one record."""
    delta = 0
    credits_member = transfer.kind is not TransferKind.RECONVERSION
    debits_member = transfer.kind is not TransferKind.ISSUANCE
    if credits_member and territory in (None, transfer.payee_territory):
        delta += transfer.amount
    if debits_member and territory in (None, transfer.payer_territory):
        delta -= transfer.amount
    return delta


def units_in_circulation(
    transfers: Iterable[Transfer], *, at: datetime, territory: str | None = None
) -> int:
    """Units held by member accounts (of ``territory`` if given) just before ``at``.

    M(t) = Σ_{records before t} (credits to members − debits from members), minor units.
    """
    return sum(_circulation_delta(t, territory) for t in transfers if t.at < at)


def average_circulation(
    transfers: Iterable[Transfer],
    *,
    start: datetime,
    end: datetime,
    territory: str | None = None,
) -> float:
    """Time-weighted mean of units in circulation over [start, end): (1/T)∫M(t)dt (minor units).

    M(t) is a step function changing at each record; history before ``start`` sets M(start).
    """
    _check_period(start, end)
    level = 0
    integral = 0
    previous = start
    for transfer in _ordered(transfers):
        if transfer.at >= end:
            break
        if transfer.at >= start:
            integral += level * ((transfer.at - previous) // _TICK)
            previous = transfer.at
        level += _circulation_delta(transfer, territory)
    integral += level * ((end - previous) // _TICK)
    return float(Fraction(integral, (end - start) // _TICK))


def velocity(
    transfers: Sequence[Transfer],
    *,
    start: datetime,
    end: datetime,
    territory: str | None = None,
) -> float:
    """Velocity over the period: V = P / M̄ (times each unit changed hands in the period).

    P = Σ payment amounts in [start, end) (paid by accounts of ``territory`` if given),
    M̄ = :func:`average_circulation`. Dimensionless per period; divide by the period's
    length in years for an annual velocity. Issuance and reconversion are not spending.
    """
    _check_period(start, end)
    spent = sum(
        t.amount
        for t in transfers
        if t.kind is TransferKind.PAYMENT
        and start <= t.at < end
        and territory in (None, t.payer_territory)
    )
    mean = average_circulation(transfers, start=start, end=end, territory=territory)
    if mean <= 0:
        raise UndefinedIndicator("velocity is undefined when no units are in circulation")
    return spent / mean


def velocity_from_sums(
    spent: int, held_at_start: int, weighted: int, *, start: datetime, end: datetime
) -> float | None:
    """:func:`velocity` from sums instead of the records (None when nothing is held):
    ``spent`` = P, ``held_at_start`` = M(start), ``weighted`` = Σ δᵢ·(end − tᵢ) in
    microseconds over the period's records, δᵢ each one's change of M. Then
    ∫M(t)dt = M(start)·T + Σ δᵢ·(end − tᵢ): the same integer :func:`average_circulation`
    accumulates step by step, so both give the same float."""
    _check_period(start, end)
    ticks = (end - start) // _TICK
    mean = float(Fraction(held_at_start * ticks + weighted, ticks))
    if mean <= 0:
        return None
    return spent / mean


@dataclass(frozen=True, slots=True)
class TerritoryFlows:
    """Flows of units into and out of the accounts of one territory (minor units)."""

    territory: str
    issued: int
    """Issuance credited to the territory's accounts."""
    received_from_outside: int
    """Payments from accounts outside the territory to accounts inside it."""
    spent_locally: int
    """Payments between two accounts of the territory."""
    spent_outside: int
    """Payments from the territory's accounts to accounts outside it."""
    reconverted: int
    """Units the territory's accounts reconverted into euros."""

    @property
    def outflow(self) -> int:
        """Units leaving the territory's accounts: local + outside spending + reconversion."""
        return self.spent_locally + self.spent_outside + self.reconverted

    def _share(self, part: int) -> float:
        if self.outflow == 0:
            raise UndefinedIndicator("flow shares are undefined when nothing was spent")
        return part / self.outflow

    @property
    def local_respend_share(self) -> float:
        """Share of re-spend inside the territory: spent_locally / outflow ∈ [0, 1]."""
        return self._share(self.spent_locally)

    @property
    def external_spend_share(self) -> float:
        """Share spent with accounts outside the territory: spent_outside / outflow."""
        return self._share(self.spent_outside)

    @property
    def reconversion_leakage(self) -> float:
        """Leakage through reconversion: reconverted / outflow ∈ [0, 1].

        local_respend_share + external_spend_share + reconversion_leakage = 1.
        """
        return self._share(self.reconverted)


def territory_flows(
    transfers: Iterable[Transfer], *, territory: str, start: datetime, end: datetime
) -> TerritoryFlows:
    """Sum the territory's inflows and outflows over [start, end) (self-transfers ignored)."""
    _check_period(start, end)
    issued = received = local = outside = reconverted = 0
    for t in transfers:
        if not start <= t.at < end or t.payer_account == t.payee_account:
            continue
        payer_in, payee_in = t.payer_territory == territory, t.payee_territory == territory
        if t.kind is TransferKind.ISSUANCE:
            issued += t.amount if payee_in else 0
        elif t.kind is TransferKind.RECONVERSION:
            reconverted += t.amount if payer_in else 0
        elif payer_in and payee_in:
            local += t.amount
        elif payer_in:
            outside += t.amount
        elif payee_in:
            received += t.amount
    return TerritoryFlows(
        territory=territory,
        issued=issued,
        received_from_outside=received,
        spent_locally=local,
        spent_outside=outside,
        reconverted=reconverted,
    )


@dataclass(frozen=True, slots=True)
class LocalMultiplier:
    """LM3-style local multiplier measured on real transaction chains (minor units)."""

    territory: str
    r1: int
    """Income entering the territory's circuit during the period."""
    r2: int
    """Part of r1 that its first recipients spent with accounts of the territory."""
    r3: int
    """Part of r2 that the second recipients re-spent with accounts of the territory."""

    @property
    def lm3(self) -> float:
        """LM3 = (R1 + R2 + R3) / R1 ∈ [1, 3] (dimensionless)."""
        if self.r1 == 0:
            raise UndefinedIndicator("LM3 is undefined when no income entered the territory")
        return (self.r1 + self.r2 + self.r3) / self.r1


# A lot is [amount, generation]: 0 = not traced, 1 = entering income (R1),
# 2 = first local re-spend (R2), 3 = second local re-spend (R3) and beyond.
_Lot = list[int]


def _draw(lots: deque[_Lot], amount: int) -> list[tuple[int, int]]:
    """Take ``amount`` from an account's lots, oldest first; a shortfall is untraced."""
    taken: list[tuple[int, int]] = []
    remaining = amount
    while remaining and lots:
        lot = lots[0]
        part = min(lot[0], remaining)
        taken.append((part, lot[1]))
        lot[0] -= part
        remaining -= part
        if lot[0] == 0:
            lots.popleft()
    if remaining:
        taken.append((remaining, 0))
    return taken


def _credit(lots: deque[_Lot], amount: int, generation: int) -> None:
    if lots and lots[-1][1] == generation:
        lots[-1][0] += amount
    else:
        lots.append([amount, generation])


def local_multiplier(
    transfers: Iterable[Transfer],
    *,
    territory: str,
    start: datetime,
    end: datetime,
    follow_until: datetime | None = None,
) -> LocalMultiplier:
    """Measure R1, R2, R3 by following each unit of entering income through the ledger.

    How chains are followed: every account holds its units as lots tagged with a
    generation, spent first-in first-out (a payment uses the oldest units received first).

    * R1: issuance credited to an account of T, or a payment from an account outside T to
      one inside T, during [start, end): the received units become generation 1.
    * A payment between two accounts of T re-tags what it carries: generation-1 units
      become generation 2 and count in R2; generation-2 units become generation 3 and
      count in R3. Generation-3 units stay 3 (later rounds are not counted).
    * Units paid outside T or reconverted into euros leave the chain.
    * Units an account held before the records start (or before ``start``) are untraced.
    * Chains are followed until ``follow_until`` (default ``end``): leave time after
      ``end`` for the re-spend of late income. Self-transfers are ignored.

    Since each traced unit is re-tagged at most once per generation, R3 ≤ R2 ≤ R1.
    """
    _check_period(start, end)
    horizon = end if follow_until is None else follow_until
    if horizon < end:
        raise InvalidInput("follow_until must not be before the end of the period")
    lots: dict[str, deque[_Lot]] = {}
    r1 = r2 = r3 = 0
    for t in _ordered(transfers):
        if t.at >= horizon:
            break
        if t.payer_account == t.payee_account:
            continue
        entering_window = start <= t.at < end
        payer_in, payee_in = t.payer_territory == territory, t.payee_territory == territory
        drawn: list[tuple[int, int]] = []
        if t.kind is not TransferKind.ISSUANCE:
            drawn = _draw(lots.setdefault(t.payer_account, deque()), t.amount)
        if t.kind is TransferKind.RECONVERSION:
            continue
        payee_lots = lots.setdefault(t.payee_account, deque())
        if payee_in and not (t.kind is TransferKind.PAYMENT and payer_in):
            # Issuance to T, or payment entering T from outside.
            generation = 1 if entering_window else 0
            r1 += t.amount if entering_window else 0
            _credit(payee_lots, t.amount, generation)
        elif payee_in:
            for part, generation in drawn:
                if generation == 1:
                    r2 += part
                elif generation == 2:
                    r3 += part
                _credit(payee_lots, part, min(generation + 1, 3) if generation else 0)
        else:
            _credit(payee_lots, t.amount, 0)
    return LocalMultiplier(territory=territory, r1=r1, r2=r2, r3=r3)


@dataclass(frozen=True, slots=True)
class Circulation:
    """All circulation indicators of one currency in one territory over one period."""

    territory: str
    start: datetime
    end: datetime
    velocity: float | None
    """:func:`velocity` for the territory, or None when nothing circulated."""
    flows: TerritoryFlows
    multiplier: LocalMultiplier


def circulation(
    transfers: Sequence[Transfer],
    *,
    territory: str,
    start: datetime,
    end: datetime,
    follow_until: datetime | None = None,
) -> Circulation:
    """Velocity, flow shares and LM3 of one territory in one call."""
    try:
        territory_velocity: float | None = velocity(
            transfers, start=start, end=end, territory=territory
        )
    except UndefinedIndicator:
        territory_velocity = None
    return Circulation(
        territory=territory,
        start=start,
        end=end,
        velocity=territory_velocity,
        flows=territory_flows(transfers, territory=territory, start=start, end=end),
        multiplier=local_multiplier(
            transfers, territory=territory, start=start, end=end, follow_until=follow_until
        ),
    )
