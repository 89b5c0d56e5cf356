"""Expiry sweeps: what expired lots still hold goes back to the funders that granted it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.database.outbox import emit
from services.ledger.programmes import repository as repo
from services.ledger.programmes import rules as dom
from services.ledger.programmes.service.base import credit_lot, load_programme, now_utc
from services.ledger.transactions.service.single import lock_accounts, post
from shared.auth import Principal
from shared.events.catalog.ledger import VoucherLotExpired

SWEEP_BATCH = 1_000


async def sweep(session: AsyncSession, *, currency: str, actor: Actor) -> dict[str, Any]:
    """Return what expired lots still hold to their funders; a second call finds nothing."""
    await load_programme(session, currency)
    now = now_utc()
    rows = await repo.lock_due_lots(session, currency=currency, now=now, limit=SWEEP_BATCH + 1)
    more = len(rows) > SWEEP_BATCH
    rows = rows[:SWEEP_BATCH]
    groups: dict[tuple[UUID, UUID], list[RowMapping]] = defaultdict(list)
    for row in rows:
        groups[(row["beneficiary"], row["funder"])].append(row)
    # Every balance the sweep moves, locked at once in id order (after the lots, as purchases
    # do): posting group by group would otherwise lock them in an order a grant may cross.
    await lock_accounts(session, (account for group in groups for account in group))
    transactions = 0
    swept_total = 0
    for (beneficiary, funder), lots in sorted(groups.items()):
        swept = dom.sweep_expired([credit_lot(row) for row in lots], now=now)
        legs = dom.expiry_postings(
            currency=currency, beneficiary=beneficiary, programme_fund=funder, sweep=swept
        )
        if not legs:
            continue
        tx = await post(
            session,
            actor=actor,
            legs=legs,
            kind="programme_expiry",
            programme_debit=True,
            description="expired programme credit returned to its funder",
            metadata={"lots": ",".join(str(d.lot_id) for d in swept.draws)},
        )
        await repo.draw(
            session,
            transaction_id=UUID(tx["id"]),
            kind="expiry",
            draws=[(d.lot_id, d.amount) for d in swept.draws],
        )
        for d in swept.draws:
            await emit(
                session,
                VoucherLotExpired(
                    lot_id=str(d.lot_id),
                    currency=currency,
                    beneficiary_account_id=str(beneficiary),
                    funder_account_id=str(funder),
                    amount=d.amount,
                    transaction_id=tx["id"],
                ),
                str(d.lot_id),
            )
        transactions += 1
        swept_total += swept.total
    return {
        "currency": currency,
        "lots_swept": len(rows),
        "transactions": transactions,
        "amount_swept": swept_total,
        "more": more,
    }


async def sweep_request(
    session: AsyncSession, principal: Principal, currency: str
) -> dict[str, Any]:
    """`sweep`, an act of the currency's operator."""
    principal.ensure_access("currencies", currency)
    authority.ensure_operator(principal, currency, act="an expiry sweep")
    return await sweep(session, currency=currency, actor=authority.actor(principal))
