"""Every SQL statement of clearing: terms, payments, settlements, and the balances the
invariant is computed from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.clearing_tables import (
    clearing_payments,
    clearing_settlements,
    clearing_terms,
)
from services.ledger.database.tables import account_balances, accounts, currency_reserves

Row = Mapping[Any, Any]


async def lock_terms(
    session: AsyncSession, currencies: Sequence[str], *, exclusive: bool
) -> dict[str, RowMapping]:
    """The terms of ``currencies``, locked in code order (two writers never deadlock):
    shared by payments (which run side by side), exclusive by a settlement, which so sees
    every payment of its pair committed before it counts them."""
    stmt = select(clearing_terms).where(clearing_terms.c.currency.in_(sorted(set(currencies))))
    stmt = stmt.order_by(clearing_terms.c.currency)
    stmt = stmt.with_for_update() if exclusive else stmt.with_for_update(read=True)
    rows = (await session.execute(stmt)).mappings().all()
    return {row["currency"]: row for row in rows}


async def get_terms(session: AsyncSession, currency: str) -> RowMapping | None:
    stmt = select(clearing_terms).where(clearing_terms.c.currency == currency)
    return (await session.execute(stmt)).mappings().first()


async def upsert_terms(session: AsyncSession, **values: Any) -> RowMapping:
    insert = pg_insert(clearing_terms).values(**values)
    changed = {k: insert.excluded[k] for k in values if k not in ("currency", "clearing_account")}
    stmt = insert.on_conflict_do_update(
        index_elements=[clearing_terms.c.currency],
        set_={**changed, "authorised_at": func.clock_timestamp()},
    ).returning(clearing_terms)
    row: RowMapping = (await session.execute(stmt)).mappings().one()
    return row


async def unbound(session: AsyncSession, account_id: UUID) -> None:
    """Lift both balance bounds of a new clearing account: its balance is a position that
    may be owed either way (and the guard trigger knows clearing accounts by this shape)."""
    stmt = (
        update(account_balances)
        .where(account_balances.c.account_id == account_id)
        .values(lower_bound=None, upper_bound=None)
    )
    await session.execute(stmt)


async def clearing_posting(session: AsyncSession, on: bool) -> None:
    """Open (or close) the guard of clearing accounts for this transaction's next postings."""
    await session.execute(
        text("SELECT set_config('ledger.clearing', :v, true)"), {"v": "on" if on else ""}
    )


async def get_reserve(session: AsyncSession, currency: str) -> RowMapping | None:
    stmt = select(
        currency_reserves,
        select(accounts.c.currency)
        .where(accounts.c.id == currency_reserves.c.reserve_account)
        .scalar_subquery()
        .label("euro_currency"),
    ).where(currency_reserves.c.currency == currency)
    return (await session.execute(stmt)).mappings().first()


async def insert_payment(session: AsyncSession, **values: Any) -> RowMapping:
    stmt = pg_insert(clearing_payments).values(**values).returning(clearing_payments)
    row: RowMapping = (await session.execute(stmt)).mappings().one()
    return row


async def get_payment(session: AsyncSession, transaction_id: UUID) -> RowMapping | None:
    stmt = select(clearing_payments).where(clearing_payments.c.transaction_id == transaction_id)
    return (await session.execute(stmt)).mappings().first()


def _pair_period(low: str, high: str, period: date) -> Any:
    p = clearing_payments.c
    return and_(p.currency_low == low, p.currency_high == high, p.period == period)


async def pair_totals(session: AsyncSession, low: str, high: str, period: date) -> Row:
    """Gross payments each way and their count, for one pair and period."""
    p = clearing_payments.c
    stmt = select(
        func.coalesce(func.sum(p.amount).filter(p.payer_currency == low), 0).label("low_to_high"),
        func.coalesce(func.sum(p.amount).filter(p.payer_currency == high), 0).label("high_to_low"),
        func.count().label("payments"),
    ).where(_pair_period(low, high, period))
    return (await session.execute(stmt)).mappings().one()


async def mark_settled(
    session: AsyncSession, low: str, high: str, period: date, settlement_id: UUID
) -> None:
    stmt = (
        update(clearing_payments)
        .where(_pair_period(low, high, period))
        .values(settlement_id=settlement_id)
    )
    await session.execute(stmt)


async def insert_settlement(session: AsyncSession, **values: Any) -> RowMapping | None:
    """The settlement row; None when the pair's period was settled already."""
    stmt = (
        pg_insert(clearing_settlements)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(clearing_settlements)
    )
    row: RowMapping | None = (await session.execute(stmt)).mappings().first()
    return row


async def settlement_of(session: AsyncSession, low: str, high: str, period: date) -> UUID | None:
    s = clearing_settlements.c
    stmt = select(s.id).where(s.currency_low == low, s.currency_high == high, s.period == period)
    found: UUID | None = (await session.execute(stmt)).scalar_one_or_none()
    return found


async def positions(
    session: AsyncSession,
    *,
    currency: str | None,
    period: date | None,
    after: tuple[date, str, str] | None,
    limit: int,
) -> Sequence[RowMapping]:
    """Gross payments each way per pair and period (newest period first), with the
    settlement that closed it if any."""
    p = clearing_payments.c
    key = (p.period, p.currency_low, p.currency_high)
    grouped = select(
        *key,
        func.coalesce(func.sum(p.amount).filter(p.payer_currency == p.currency_low), 0).label(
            "low_to_high"
        ),
        func.coalesce(func.sum(p.amount).filter(p.payer_currency == p.currency_high), 0).label(
            "high_to_low"
        ),
        func.count().label("payments"),
    ).group_by(*key)
    if currency is not None:
        grouped = grouped.where((p.currency_low == currency) | (p.currency_high == currency))
    if period is not None:
        grouped = grouped.where(p.period == period)
    g = grouped.subquery()
    s = clearing_settlements.c
    stmt = (
        select(g, s.id.label("settlement_id"))
        .outerjoin(
            clearing_settlements,
            and_(
                s.currency_low == g.c.currency_low,
                s.currency_high == g.c.currency_high,
                s.period == g.c.period,
            ),
        )
        .order_by(g.c.period.desc(), g.c.currency_low, g.c.currency_high)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(
            (g.c.period < after[0])
            | (
                (g.c.period == after[0])
                & (tuple_(g.c.currency_low, g.c.currency_high) > tuple_(*after[1:]))
            )
        )
    return (await session.execute(stmt)).mappings().all()


async def settlements(
    session: AsyncSession,
    *,
    currency: str | None,
    period: date | None,
    after: UUID | None,
    limit: int,
) -> Sequence[RowMapping]:
    s = clearing_settlements.c
    stmt = select(clearing_settlements).order_by(s.id).limit(limit)
    if currency is not None:
        stmt = stmt.where((s.currency_low == currency) | (s.currency_high == currency))
    if period is not None:
        stmt = stmt.where(s.period == period)
    if after is not None:
        stmt = stmt.where(s.id > after)
    return (await session.execute(stmt)).mappings().all()


_FIGURES = text(
    """
    SELECT
        (SELECT posted FROM account_balances WHERE account_id = :issuer) AS issuer,
        (SELECT posted FROM account_balances WHERE account_id = :reserve) AS reserve,
        (SELECT posted FROM account_balances WHERE account_id = :clearing) AS clearing,
        (SELECT coalesce(sum(posted), 0) FROM account_balances
         WHERE currency = :currency AND account_id <> :issuer
           AND account_id IS DISTINCT FROM :clearing) AS held
    """
)


async def invariant_figures(
    session: AsyncSession, *, currency: str, issuer: UUID, reserve: UUID, clearing: UUID | None
) -> Row:
    """The balances of the invariant in one statement, so one snapshot even while payments
    commit: the issuer's, the reserve's, the clearing account's, and the sum of every other
    account of the currency (circulation counted account by account)."""
    values = {"currency": currency, "issuer": issuer, "reserve": reserve, "clearing": clearing}
    return (await session.execute(_FIGURES, values)).mappings().one()
