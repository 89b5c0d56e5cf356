"""The published monthly figures of one currency, per territory, from its transfers.

Per territory and month (UTC months, as the live aggregates):

- ``circulation``: units held by the territory's accounts at the end of the month (minor
  units; `units_in_circulation`);
- ``velocity``: payments by the territory's accounts over the month divided by the mean
  circulation (`velocity`), None when nothing circulated;
- ``reconversion_leakage``: reconverted / (spent + reconverted) by the territory's
  accounts, None when nothing left them;
- ``active_accounts``: circulating accounts that moved units there that month.

Each cell also carries what the disclosure rules need (`CellStats`): its accounts and, for
the units held, spent and reconverted, the largest single account's part of the total.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.diagnostics.aggregates.rules.circulation import (
    Transfer,
    TransferKind,
    territory_flows,
    units_in_circulation,
    velocity,
)
from services.diagnostics.aggregates.rules.postings import active_accounts, month_bounds
from services.diagnostics.errors import UndefinedIndicator
from services.diagnostics.opendata.rules.suppression import CellStats


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One territory's published figures for one month (``territory`` None: all of them)."""

    territory: str | None
    period: str
    circulation: int
    velocity: float | None
    reconversion_leakage: float | None
    active_accounts: int
    stats: CellStats


def _part(amounts: Counter[str]) -> tuple[int, int]:
    """(largest single account's part, total) of positive amounts."""
    positive = [v for v in amounts.values() if v > 0]
    return (max(positive, default=0), sum(positive))


def _velocity(transfers: Sequence[Transfer], period: str, territory: str | None) -> float | None:
    start, end = month_bounds(period)
    try:
        return round(velocity(transfers, start=start, end=end, territory=territory), 4)
    except UndefinedIndicator:
        return None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _by_territory(
    transfers: Sequence[Transfer], territories: Iterable[str]
) -> dict[str, list[Transfer]]:
    """The transfers touching each territory, in order: a territory's circulation, velocity
    and flows depend on those only, so each is computed on its own share of the history."""
    out: dict[str, list[Transfer]] = {code: [] for code in territories}
    for t in transfers:
        for code in {t.payer_territory, t.payee_territory}:
            if code in out:
                out[code].append(t)
    return out


def month_figures(transfers: Sequence[Transfer], *, period: str) -> list[MonthFigures]:
    """The figures of every territory active in ``period``, by territory code; transfers
    are one currency's, in posting order, at least up to the month's end."""
    start, end = month_bounds(period)
    in_month = [t for t in transfers if start <= t.at < end]
    accounts: dict[str, set[str]] = {}
    for territory, account in active_accounts(in_month):
        accounts.setdefault(territory, set()).add(account)
    held: dict[str, Counter[str]] = {code: Counter() for code in accounts}
    for t in transfers:
        if t.at >= end:
            continue
        if t.kind is not TransferKind.RECONVERSION and t.payee_territory in held:
            held[t.payee_territory][t.payee_account] += t.amount
        if t.kind is not TransferKind.ISSUANCE and t.payer_territory in held:
            held[t.payer_territory][t.payer_account] -= t.amount
    spent: dict[str, Counter[str]] = {code: Counter() for code in accounts}
    reconverted: dict[str, Counter[str]] = {code: Counter() for code in accounts}
    for t in in_month:
        if t.payer_territory in spent and t.kind is not TransferKind.ISSUANCE:
            side = spent if t.kind is TransferKind.PAYMENT else reconverted
            side[t.payer_territory][t.payer_account] += t.amount
    touching = _by_territory(transfers, accounts.keys())
    out = []
    for code in sorted(accounts):
        mine = touching[code]
        flows = territory_flows(mine, territory=code, start=start, end=end)
        out.append(
            MonthFigures(
                territory=code,
                period=period,
                circulation=units_in_circulation(mine, at=end, territory=code),
                velocity=_velocity(mine, period, code),
                reconversion_leakage=_ratio(flows.reconverted, flows.outflow),
                active_accounts=len(accounts[code]),
                stats=CellStats(
                    accounts=len(accounts[code]),
                    parts=(_part(held[code]), _part(spent[code]), _part(reconverted[code])),
                ),
            )
        )
    return out


def month_total(
    transfers: Sequence[Transfer], *, period: str, cells: Sequence[MonthFigures]
) -> MonthFigures:
    """The month's total row: circulation and active accounts are the sums of the cells
    (so the disclosure rules' equations hold exactly), velocity and leakage are the
    currency's over all its accounts."""
    start, end = month_bounds(period)
    leaving = [
        t
        for t in transfers
        if start <= t.at < end
        and t.kind is not TransferKind.ISSUANCE
        and t.payer_territory is not None
        and t.payer_account != t.payee_account
    ]
    reconverted = sum(t.amount for t in leaving if t.kind is TransferKind.RECONVERSION)
    return MonthFigures(
        territory=None,
        period=period,
        circulation=sum(c.circulation for c in cells),
        velocity=_velocity(transfers, period, None),
        reconversion_leakage=_ratio(reconverted, sum(t.amount for t in leaving)),
        active_accounts=sum(c.active_accounts for c in cells),
        stats=CellStats(accounts=sum(c.active_accounts for c in cells)),
    )
