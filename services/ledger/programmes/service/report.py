"""The per-funder report of a programme: granted, spent by category and by merchant, swept
back, reimbursed to merchants in euros, still open."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.programmes import repository as repo
from services.ledger.programmes.service.base import load_programme, now_utc
from shared.auth import Principal


async def report(
    session: AsyncSession, principal: Principal, *, currency: str, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """Per funder: granted, spent by category and by merchant, swept back, reimbursed to
    merchants in euros from the funder's euro account, still open."""
    principal.ensure_access("currencies", currency)
    await load_programme(session, currency)
    now = now_utc()
    funders = await repo.funders_page(session, currency=currency, after=after, limit=limit, now=now)
    draws = await repo.draws_by_funder(
        session, currency=currency, funders=[f["funder"] for f in funders]
    )
    reimbursed = await repo.reimbursed_by_funder(
        session, currency=currency, funders=[f["funder"] for f in funders]
    )
    by_funder: dict[UUID, list[RowMapping]] = defaultdict(list)
    for d in draws:
        by_funder[d["funder"]].append(d)
    items = []
    for f in funders:
        categories: dict[str, int] = defaultdict(int)
        merchants: dict[str, int] = defaultdict(int)
        swept = 0
        for d in by_funder[f["funder"]]:
            if d["kind"] == "expiry":
                swept += int(d["amount"])
                continue
            categories[d["category"]] += int(d["amount"])
            merchants[str(d["merchant"])] += int(d["amount"])
        items.append(
            {
                "funder_account_id": str(f["funder"]),
                "lots": int(f["lots"]),
                "granted": int(f["granted"]),
                "spent": sum(categories.values()),
                "swept": swept,
                "reimbursed": reimbursed.get(f["funder"], 0),
                "outstanding": int(f["outstanding"]),
                "expired_unswept": int(f["expired_unswept"]),
                "by_category": [
                    {"category": k, "amount": v} for k, v in sorted(categories.items())
                ],
                "by_merchant": [
                    {"merchant_account_id": k, "amount": v} for k, v in sorted(merchants.items())
                ],
            }
        )
    return items
