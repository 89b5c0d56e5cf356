"""Every SQL statement of voucher programmes: rules, approved merchants and funders, credit
lots and their draws, and euro reimbursements of merchants.

Locking: a purchase locks its beneficiary's open lots (ordered by id) before the balance
rows the posting path locks; the expiry sweep locks due lots (ordered by id) first too, so
lots are always taken before balances and never in opposite orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import (
    credit_lots,
    lot_draws,
    programme_funder_euro_accounts,
    programme_funders,
    programme_merchants,
    programme_reimbursement,
    voucher_programmes,
    voucher_reimbursements,
)


async def upsert_programme(
    session: AsyncSession,
    *,
    currency: str,
    allowed_categories: Sequence[str],
    category_caps: dict[str, int],
    cap_period: str,
    merchants: Sequence[UUID],
    funders: Sequence[UUID],
) -> None:
    values = {
        "currency": currency,
        "allowed_categories": list(allowed_categories),
        "category_caps": category_caps,
        "cap_period": cap_period,
    }
    stmt = pg_insert(voucher_programmes).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[voucher_programmes.c.currency],
        set_={
            "allowed_categories": stmt.excluded.allowed_categories,
            "category_caps": stmt.excluded.category_caps,
            "cap_period": stmt.excluded.cap_period,
            "updated_at": func.clock_timestamp(),
        },
    )
    await session.execute(stmt)
    for table, ids in ((programme_merchants, merchants), (programme_funders, funders)):
        await session.execute(delete(table).where(table.c.currency == currency))
        if ids:
            await session.execute(
                insert(table), [{"currency": currency, "account_id": i} for i in sorted(set(ids))]
            )


async def get_programme(
    session: AsyncSession, currency: str
) -> tuple[RowMapping, list[UUID], list[UUID]] | None:
    """The programme row, its approved merchants and its funders; None if not configured."""
    row = (
        (
            await session.execute(
                select(voucher_programmes).where(voucher_programmes.c.currency == currency)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    found: list[list[UUID]] = []
    for table in (programme_merchants, programme_funders):
        stmt = (
            select(table.c.account_id)
            .where(table.c.currency == currency)
            .order_by(table.c.account_id)
        )
        found.append(list((await session.execute(stmt)).scalars().all()))
    return row, found[0], found[1]


async def insert_lot(session: AsyncSession, **values: Any) -> RowMapping:
    stmt = insert(credit_lots).values(**values).returning(credit_lots)
    row: RowMapping = (await session.execute(stmt)).mappings().one()
    return row


async def lock_open_lots(session: AsyncSession, *, beneficiary: UUID) -> Sequence[RowMapping]:
    """The beneficiary's lots that still hold credit, locked in id order."""
    stmt = (
        select(credit_lots)
        .where(credit_lots.c.beneficiary == beneficiary, credit_lots.c.remaining > 0)
        .order_by(credit_lots.c.id)
        .with_for_update()
    )
    return (await session.execute(stmt)).mappings().all()


async def lock_due_lots(
    session: AsyncSession, *, currency: str, now: datetime, limit: int
) -> Sequence[RowMapping]:
    """Expired lots of ``currency`` that still hold credit, locked in id order."""
    stmt = (
        select(credit_lots)
        .where(
            credit_lots.c.currency == currency,
            credit_lots.c.remaining > 0,
            credit_lots.c.expires_at <= now,
        )
        .order_by(credit_lots.c.id)
        .limit(limit)
        .with_for_update()
    )
    return (await session.execute(stmt)).mappings().all()


async def draw(
    session: AsyncSession,
    *,
    transaction_id: UUID,
    kind: str,
    draws: Sequence[tuple[UUID, int]],
    category: str | None = None,
    merchant: UUID | None = None,
) -> None:
    """Take each (lot, amount) from its lot and record the draw against the transaction."""
    for lot_id, amount in draws:
        await session.execute(
            update(credit_lots)
            .where(credit_lots.c.id == lot_id)
            .values(remaining=credit_lots.c.remaining - amount)
        )
    await session.execute(
        insert(lot_draws),
        [
            {
                "transaction_id": transaction_id,
                "lot_id": lot_id,
                "kind": kind,
                "amount": amount,
                "category": category,
                "merchant": merchant,
            }
            for lot_id, amount in draws
        ],
    )


async def spent_in_category(
    session: AsyncSession, *, beneficiary: UUID, category: str, since: datetime | None
) -> int:
    """What the beneficiary's lots paid in ``category`` since ``since`` (ever if None)."""
    stmt = (
        select(func.coalesce(func.sum(lot_draws.c.amount), 0))
        .join(credit_lots, credit_lots.c.id == lot_draws.c.lot_id)
        .where(
            credit_lots.c.beneficiary == beneficiary,
            lot_draws.c.kind == "purchase",
            lot_draws.c.category == category,
        )
    )
    if since is not None:
        stmt = stmt.where(lot_draws.c.created_at >= since)
    return int((await session.execute(stmt)).scalar_one())


async def list_lots(
    session: AsyncSession,
    *,
    currency: str,
    beneficiary: UUID | None,
    after: UUID | None,
    limit: int,
) -> Sequence[RowMapping]:
    stmt = (
        select(credit_lots)
        .where(credit_lots.c.currency == currency)
        .order_by(credit_lots.c.id)
        .limit(limit)
    )
    if beneficiary is not None:
        stmt = stmt.where(credit_lots.c.beneficiary == beneficiary)
    if after is not None:
        stmt = stmt.where(credit_lots.c.id > after)
    return (await session.execute(stmt)).mappings().all()


async def funders_page(
    session: AsyncSession, *, currency: str, after: UUID | None, limit: int, now: datetime
) -> Sequence[RowMapping]:
    """Per funder of ``currency`` (keyset on funder id): lots, granted, outstanding, expired."""
    expired = credit_lots.c.expires_at <= now
    stmt = (
        select(
            credit_lots.c.funder,
            func.count().label("lots"),
            func.sum(credit_lots.c.amount).label("granted"),
            func.sum(case((expired, 0), else_=credit_lots.c.remaining)).label("outstanding"),
            func.sum(case((expired, credit_lots.c.remaining), else_=0)).label("expired_unswept"),
        )
        .where(credit_lots.c.currency == currency)
        .group_by(credit_lots.c.funder)
        .order_by(credit_lots.c.funder)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(credit_lots.c.funder > after)
    return (await session.execute(stmt)).mappings().all()


async def draws_by_funder(
    session: AsyncSession, *, currency: str, funders: Sequence[UUID]
) -> Sequence[RowMapping]:
    """Sums of draws per (funder, kind, category, merchant) for ``funders``."""
    if not funders:
        return []
    stmt = (
        select(
            credit_lots.c.funder,
            lot_draws.c.kind,
            lot_draws.c.category,
            lot_draws.c.merchant,
            func.sum(lot_draws.c.amount).label("amount"),
        )
        .join(credit_lots, credit_lots.c.id == lot_draws.c.lot_id)
        .where(credit_lots.c.currency == currency, credit_lots.c.funder.in_(funders))
        .group_by(
            credit_lots.c.funder, lot_draws.c.kind, lot_draws.c.category, lot_draws.c.merchant
        )
        .order_by(credit_lots.c.funder, lot_draws.c.category, lot_draws.c.merchant)
    )
    return (await session.execute(stmt)).mappings().all()


# --- euro reimbursements of voucher merchants -----------------------------------------------


async def configure_reimbursement(
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


async def reimbursement_configuration(
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


async def record_reimbursements(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
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
