"""Open data of the currencies: the operator opts a currency in or out; anyone reads the
monthly figures of the opted-in currencies, under disclosure control.

Only settled months are published: months that ended at least `SETTLE_DAYS` days ago,
past the ledger's default back-dating window (31 days), so a month's figures, hence its
suppression pattern, no longer change once published and two publications cannot be
subtracted from each other. Each month is its own table (territories and their total),
protected by `rules.suppression.protect`.

Computing the rows reads a currency's whole history (about 7 s for 52,000 transfers), so
the rows are kept per process, keyed by the version of the transfers they come from
(count and highest sequence): recomputed only when a transfer lands before the cut-off.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates import service as aggregates
from services.diagnostics.aggregates.rules.circulation import Transfer
from services.diagnostics.aggregates.rules.postings import month_bounds, period_of
from services.diagnostics.opendata import repository
from services.diagnostics.opendata.errors import NotPublished
from services.diagnostics.opendata.models import OpenDataPublication
from services.diagnostics.opendata.rules import figures, suppression
from services.diagnostics.opendata.rules.suppression import TOTAL
from shared import csv_safety
from shared.auth import Principal

LICENCE = {
    "name": "Licence Ouverte 2.0",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
RULES = {
    "min_accounts": suppression.MIN_ACCOUNTS,
    "dominance_share": float(suppression.DOMINANCE_SHARE),
    "secondary_suppression": (
        "each withheld cell lies on a cycle of withheld cells, so no combination of the "
        "published totals recovers it"
    ),
}
CSV_HEADERS = (
    "monnaie",
    "territoire",
    "mois",
    "circulation_unites",
    "vitesse_circulation",
    "taux_fuite_reconversion",
    "comptes_actifs",
    "secret_statistique",
)
ALL_TERRITORIES = "ensemble"
SETTLE_DAYS = 45
CACHE_ENTRIES = 64
_rows_cache: OrderedDict[tuple[str, str, datetime, tuple[int, int]], list[dict[str, Any]]] = (
    OrderedDict()
)


async def opt_in(session: AsyncSession, principal: Principal, currency: str) -> OpenDataPublication:
    """Publish ``currency`` as open data (its operator only: bound to the currency)."""
    principal.ensure_access("currencies", currency)
    return await repository.opt_in(
        session, currency=currency, licence=LICENCE["name"], by=principal.client_id
    )


async def opt_out(session: AsyncSession, principal: Principal, currency: str) -> None:
    """Stop publishing ``currency``; its figures disappear from the next answer."""
    principal.ensure_access("currencies", currency)
    if not await repository.opt_out(session, currency=currency):
        raise NotPublished(f"{currency} is not published as open data")


async def publication(
    session: AsyncSession, principal: Principal, currency: str
) -> OpenDataPublication:
    principal.ensure_access("currencies", currency)
    found = await repository.get(session, currency)
    if found is None:
        raise NotPublished(f"{currency} is not published as open data")
    return found


async def document(session: AsyncSession, *, currency: str | None, now: datetime) -> dict[str, Any]:
    """The licence, the disclosure rules and the rows of the opted-in currencies (only
    ``currency`` when given: NotPublished unless it opted in)."""
    publications = await repository.published(session, currency)
    if currency is not None and not publications:
        raise NotPublished(f"{currency} is not published as open data")
    settled_before = month_bounds(period_of((now - timedelta(days=SETTLE_DAYS)).date()))[0]
    items: list[dict[str, Any]] = []
    for pub in publications:
        items += await _currency_rows(session, pub.currency, settled_before)
    return {"licence": LICENCE, "rules": RULES, "items": items}


async def _currency_rows(
    session: AsyncSession, currency: str, before: datetime
) -> list[dict[str, Any]]:
    version = await aggregates.transfers_version(session, currency=currency, before=before)
    key = (str(session.get_bind().engine.url), currency, before, version)
    if (cached := _rows_cache.get(key)) is not None:
        _rows_cache.move_to_end(key)
        return cached
    transfers = await aggregates.currency_transfers(session, currency=currency, before=before)
    rows: list[dict[str, Any]] = []
    for period in sorted({period_of(t.at.date()) for t in transfers}):
        rows += _month_rows(currency, period, transfers)
    _rows_cache[key] = rows
    while len(_rows_cache) > CACHE_ENTRIES:
        _rows_cache.popitem(last=False)
    return rows


def _month_rows(currency: str, period: str, transfers: list[Transfer]) -> list[dict[str, Any]]:
    cells = figures.month_figures(transfers, period=period)
    if not cells:
        return []
    total = figures.month_total(transfers, period=period, cells=cells)
    withheld = suppression.protect({(c.territory, period): c.stats for c in cells})
    return [
        _row(currency, c, (c.territory if c.territory is not None else TOTAL, period) in withheld)
        for c in [*cells, total]
    ]


def _row(currency: str, figures_: figures.MonthFigures, suppressed: bool) -> dict[str, Any]:
    shown = not suppressed
    return {
        "currency": currency,
        "territory": figures_.territory,
        "period": figures_.period,
        "circulation": figures_.circulation if shown else None,
        "velocity": figures_.velocity if shown else None,
        "reconversion_leakage": figures_.reconversion_leakage if shown else None,
        "active_accounts": figures_.active_accounts if shown else None,
        "suppressed": suppressed,
    }


def as_csv(document_: dict[str, Any]) -> str:
    """The rows as CSV, French headers, one line per currency, territory and month."""
    out = io.StringIO()
    writer = csv_safety.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADERS)
    for item in document_["items"]:
        writer.writerow(
            (
                item["currency"],
                item["territory"] or ALL_TERRITORIES,
                item["period"],
                *(
                    "" if item[k] is None else item[k]
                    for k in ("circulation", "velocity", "reconversion_leakage", "active_accounts")
                ),
                "oui" if item["suppressed"] else "non",
            )
        )
    return out.getvalue()
