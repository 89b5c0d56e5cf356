"""SQL of euro reimbursements of voucher merchants (``ledger_0008``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import (
    credit_lots,
    lot_draws,
    programme_funder_euro_accounts,
    programme_reimbursement,
    voucher_reimbursements,
)


async def configure(
    session: AsyncSession, *, currency: str, issuer: UUID, euro_accounts: dict[UUID, UUID]
) -> None:
    stmt = pg_insert(programme_reimbursement).values(currency=currency, issuer_account=issuer)
    stmt = stmt.on_conflict_do_update(
        index_elements=[programme_reimbursement.c.currency],
        set_={"issuer_account": stmt.excluded.issuer_account},
    )
    await session.execute(stmt)
    table = programme_funder_euro_accounts
    await session.execute(delete(table).where(table.c.currency == currency))
    await session.execute(
        insert(table),
        [
            {"currency": currency, "funder": funder, "euro_account": euro}
            for funder, euro in sorted(euro_accounts.items())
        ],
    )


async def configuration(
    session: AsyncSession, currency: str
) -> tuple[UUID, dict[UUID, UUID]] | None:
    """(voucher issuer, euro account per funder), or None if not configured."""
    issuer = (
        await session.execute(
            select(programme_reimbursement.c.issuer_account).where(
                programme_reimbursement.c.currency == currency
            )
        )
    ).scalar_one_or_none()
    if issuer is None:
        return None
    table = programme_funder_euro_accounts
    rows = (await session.execute(select(table).where(table.c.currency == currency))).all()
    return issuer, {row.funder: row.euro_account for row in rows}


async def owed_by_funder(
    session: AsyncSession, *, currency: str, merchant: UUID
) -> dict[UUID, int]:
    """Per funder: what its lots paid ``merchant`` minus what was already reimbursed."""
    spent = (
        select(credit_lots.c.funder, func.sum(lot_draws.c.amount).label("amount"))
        .join(credit_lots, credit_lots.c.id == lot_draws.c.lot_id)
        .where(
            credit_lots.c.currency == currency,
            lot_draws.c.kind == "purchase",
            lot_draws.c.merchant == merchant,
        )
        .group_by(credit_lots.c.funder)
    )
    paid = (
        select(voucher_reimbursements.c.funder, func.sum(voucher_reimbursements.c.units))
        .where(
            voucher_reimbursements.c.currency == currency,
            voucher_reimbursements.c.merchant == merchant,
        )
        .group_by(voucher_reimbursements.c.funder)
    )
    owed = {row.funder: int(row.amount) for row in (await session.execute(spent)).all()}
    for funder, units in (await session.execute(paid)).all():
        owed[funder] = owed.get(funder, 0) - int(units)
    return {funder: amount for funder, amount in owed.items() if amount > 0}


async def record(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await session.execute(insert(voucher_reimbursements), list(rows))


async def reimbursed_by_funder(
    session: AsyncSession, *, currency: str, funders: Sequence[UUID]
) -> dict[UUID, int]:
    if not funders:
        return {}
    stmt = (
        select(voucher_reimbursements.c.funder, func.sum(voucher_reimbursements.c.units))
        .where(
            voucher_reimbursements.c.currency == currency,
            voucher_reimbursements.c.funder.in_(funders),
        )
        .group_by(voucher_reimbursements.c.funder)
    )
    return {funder: int(units) for funder, units in (await session.execute(stmt)).all()}
