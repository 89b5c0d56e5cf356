"""From a posted ledger transaction to currency transfers and live aggregate counters.

A posted transaction is a set of signed legs summing to zero. Units *circulate* while held
by ``member`` or ``merchant`` accounts; every other account type (issuer, reserve, fund,
programme) is outside circulation. Debit legs are matched with credit legs in posting
order (greedy), giving payer → payee :class:`~.currency_flows.Transfer` records:

* outside → circulating: ``issuance`` (units enter circulation);
* circulating → circulating: ``payment``;
* circulating → outside: ``reconversion`` (units leave circulation: reconversion into
  euros, and also fees or demurrage paid to the operator);
* outside → outside: not a circulation movement, dropped.

The counters of one (territory, currency, month) are the
:class:`~.currency_flows.TerritoryFlows` of that month plus the number of transactions
touching the territory; they are additive, so adding one transaction's counters to the
stored ones equals recomputing them from every stored transfer (:func:`recompute`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta

from services.diagnostics.aggregates.rules.circulation import (
    Transfer,
    TransferKind,
    territory_flows,
)
from services.diagnostics.errors import InvalidInput

CIRCULATING_ACCOUNT_TYPES = frozenset({"member", "merchant"})


@dataclass(frozen=True, slots=True)
class Leg:
    """One signed posting of a transaction (minor units)."""

    account_id: str
    account_type: str
    territory: str | None
    amount: int


def transfers_from_legs(legs: Sequence[Leg], *, at: datetime) -> list[Transfer]:
    """Pair debits with credits in posting order; keep the movements that touch circulation."""
    if sum(leg.amount for leg in legs) != 0:
        raise InvalidInput("the postings of a transaction must sum to zero")
    debits = [leg for leg in legs if leg.amount < 0]
    credits = [leg for leg in legs if leg.amount > 0]
    to_pay = [-leg.amount for leg in debits]
    to_receive = [leg.amount for leg in credits]
    out: list[Transfer] = []
    i = j = 0
    while i < len(debits) and j < len(credits):
        payer, payee = debits[i], credits[j]
        amount = min(to_pay[i], to_receive[j])
        to_pay[i] -= amount
        to_receive[j] -= amount
        kind = _kind(payer.account_type, payee.account_type)
        if kind is not None and payer.account_id != payee.account_id:
            out.append(
                Transfer(
                    payer_account=payer.account_id,
                    payee_account=payee.account_id,
                    payer_territory=payer.territory,
                    payee_territory=payee.territory,
                    amount=amount,
                    at=at,
                    kind=kind,
                )
            )
        i += to_pay[i] == 0
        j += to_receive[j] == 0
    return out


def _kind(payer_type: str, payee_type: str) -> TransferKind | None:
    payer_in = payer_type in CIRCULATING_ACCOUNT_TYPES
    payee_in = payee_type in CIRCULATING_ACCOUNT_TYPES
    if payer_in and payee_in:
        return TransferKind.PAYMENT
    if payee_in:
        return TransferKind.ISSUANCE
    if payer_in:
        return TransferKind.RECONVERSION
    return None


def period_of(day: date) -> str:
    """The ISO month of a date, e.g. ``2026-11``."""
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """[start, end) of an ISO month in UTC; InvalidInput for anything else."""
    try:
        year, month = (int(part) for part in period.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"period {period!r} is not an ISO month (YYYY-MM)") from None
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def instant_within(day: date, moment: datetime) -> datetime:
    """``moment`` clamped into ``day`` (UTC): a back-dated posting keeps its business date."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    last = start + timedelta(days=1) - timedelta(microseconds=1)
    return min(max(moment.astimezone(UTC), start), last)


@dataclass(frozen=True, slots=True)
class Counters:
    """Additive counters of one currency in one territory for one month (minor units)."""

    transactions: int = 0
    issued: int = 0
    received_from_outside: int = 0
    spent_locally: int = 0
    spent_outside: int = 0
    reconverted: int = 0

    def __add__(self, other: Counters) -> Counters:
        return Counters(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Counters)))

    def as_dict(self) -> dict[str, int]:
        """Counters by name."""
        return {f.name: getattr(self, f.name) for f in fields(Counters)}

    @property
    def volume(self) -> int:
        """Units the territory's accounts spent: spent_locally + spent_outside."""
        return self.spent_locally + self.spent_outside

    @property
    def outflow(self) -> int:
        """spent_locally + spent_outside + reconverted."""
        return self.volume + self.reconverted

    def share(self, part: str) -> float | None:
        """``part`` / outflow, or None when nothing left the territory's accounts."""
        return getattr(self, part) / self.outflow if self.outflow else None


Key = tuple[str, str, str]
"""(territory, currency, period)."""


def territories_of(transfers: Iterable[Transfer]) -> list[str]:
    """Territories named by a payer or a payee of the transfers, sorted."""
    named = {t.payer_territory for t in transfers} | {t.payee_territory for t in transfers}
    return sorted(code for code in named if code is not None)


def month_counters(
    transfers: Sequence[Transfer], *, territory: str, period: str, transactions: int
) -> Counters:
    """The territory's flows of the month among ``transfers``, as counters of
    ``transactions`` transactions: the live path and the rebuild count alike."""
    start, end = month_bounds(period)
    flows = territory_flows(transfers, territory=territory, start=start, end=end)
    return Counters(
        transactions=transactions,
        issued=flows.issued,
        received_from_outside=flows.received_from_outside,
        spent_locally=flows.spent_locally,
        spent_outside=flows.spent_outside,
        reconverted=flows.reconverted,
    )


def transaction_counters(
    transfers: Sequence[Transfer], *, currency: str, period: str
) -> dict[Key, Counters]:
    """Counters one transaction adds, for each territory its transfers name."""
    return {
        (territory, currency, period): month_counters(
            transfers, territory=territory, period=period, transactions=1
        )
        for territory in territories_of(transfers)
    }


@dataclass(frozen=True, slots=True)
class StoredTransfer:
    """A transfer as stored, with the transaction and currency it belongs to."""

    transaction_id: str
    currency: str
    period: str
    transfer: Transfer


def recompute(stored: Iterable[StoredTransfer]) -> dict[Key, Counters]:
    """Counters rebuilt from raw transfers: flows per (territory, currency, month), and the
    number of distinct transactions naming the territory."""
    by_key: dict[Key, list[Transfer]] = {}
    naming: dict[Key, set[str]] = {}
    for row in stored:
        t = row.transfer
        for territory in territories_of([t]):
            key = (territory, row.currency, row.period)
            by_key.setdefault(key, []).append(t)
            naming.setdefault(key, set()).add(row.transaction_id)
    return {
        key: month_counters(
            transfers, territory=key[0], period=key[2], transactions=len(naming[key])
        )
        for key, transfers in by_key.items()
    }


def active_accounts(transfers: Iterable[Transfer]) -> set[tuple[str, str]]:
    """(territory, account) of every circulating account a transfer debits or credits.

    Issuance credits a member, reconversion debits one, a payment does both; accounts
    outside circulation (issuer, reserve, fund, programme) are never counted.
    """
    found: set[tuple[str, str]] = set()
    for t in transfers:
        if t.kind is not TransferKind.ISSUANCE and t.payer_territory is not None:
            found.add((t.payer_territory, t.payer_account))
        if t.kind is not TransferKind.RECONVERSION and t.payee_territory is not None:
            found.add((t.payee_territory, t.payee_account))
    return found


def recompute_active_accounts(stored: Iterable[StoredTransfer]) -> dict[Key, int]:
    """Number of distinct active accounts per (territory, currency, month), from raw transfers."""
    accounts: dict[Key, set[str]] = {}
    for row in stored:
        for territory, account in active_accounts([row.transfer]):
            accounts.setdefault((territory, row.currency, row.period), set()).add(account)
    return {key: len(found) for key, found in accounts.items()}
