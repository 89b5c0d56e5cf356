"""Every SQL statement of the live currency aggregates: raw transfers, counters, active
accounts and the rows waiting to be published."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TypedDict

from sqlalchemy import (
    Numeric,
    Select,
    Table,
    and_,
    case,
    cast,
    delete,
    extract,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates.models import (
    CurrencyActiveAccount,
    CurrencyAggregate,
    CurrencyTransfer,
    PendingPublication,
)
from services.diagnostics.aggregates.rules.circulation import Transfer
from services.diagnostics.aggregates.rules.postings import Counters, Key, StoredTransfer
from shared.auth import Principal


async def add_transfers(
    session: AsyncSession,
    *,
    transaction_id: str,
    currency: str,
    period: str,
    transfers: Sequence[Transfer],
) -> None:
    if not transfers:
        return
    await session.execute(
        pg_insert(CurrencyTransfer).values(
            [
                {
                    "transaction_id": transaction_id,
                    "currency": currency,
                    "period": period,
                    "kind": t.kind.value,
                    "payer_account": t.payer_account,
                    "payee_account": t.payee_account,
                    "payer_territory": t.payer_territory,
                    "payee_territory": t.payee_territory,
                    "amount": t.amount,
                    "at": t.at,
                }
                for t in transfers
            ]
        )
    )


async def add_counters(
    session: AsyncSession, deltas: Mapping[Key, Counters]
) -> dict[Key, Counters]:
    """Add each delta to its row (created at zero) and return the rows' new values."""
    out: dict[Key, Counters] = {}
    for (territory, currency, period), delta in sorted(deltas.items()):
        values = delta.as_dict()
        stmt = pg_insert(CurrencyAggregate).values(
            territory=territory, currency=currency, period=period, **values
        )
        table = CurrencyAggregate.__table__
        row = await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    CurrencyAggregate.territory,
                    CurrencyAggregate.currency,
                    CurrencyAggregate.period,
                ],
                set_={
                    **{name: table.c[name] + stmt.excluded[name] for name in values},
                    "updated_at": func.now(),
                },
            ).returning(*(table.c[name] for name in values))
        )
        out[(territory, currency, period)] = Counters(*row.one())
    return out


async def add_active_accounts(
    session: AsyncSession, *, currency: str, period: str, accounts: Collection[tuple[str, str]]
) -> None:
    if not accounts:
        return
    await session.execute(
        pg_insert(CurrencyActiveAccount)
        .values(
            [
                {"territory": t, "currency": currency, "period": period, "account": a}
                for t, a in sorted(accounts)
            ]
        )
        .on_conflict_do_nothing()
    )


async def active_account_counts(
    session: AsyncSession, keys: Collection[Key] | None = None
) -> dict[Key, int]:
    """Distinct active accounts per (territory, currency, period), for ``keys`` or all."""
    table = CurrencyActiveAccount
    query = select(table.territory, table.currency, table.period, func.count()).group_by(
        table.territory, table.currency, table.period
    )
    if keys is not None:
        if not keys:
            return {}
        query = query.where(tuple_(table.territory, table.currency, table.period).in_(list(keys)))
    return {(t, c, p): n for t, c, p, n in (await session.execute(query)).all()}


def _readable(query: Select[CurrencyAggregate], principal: Principal) -> Select[CurrencyAggregate]:
    """Only the rows of the territories and currencies the client is bound to (a client
    bound to no currency sees none)."""
    territories = principal.visible("territories")
    if territories is not None:
        query = query.where(CurrencyAggregate.territory.in_(list(territories)))
    currencies = principal.visible("currencies")
    if currencies is not None:
        query = query.where(CurrencyAggregate.currency.in_(list(currencies)))
    return query


class AggregateFilters(TypedDict):
    """The filters of a list of aggregates, each None when not asked for: the service
    passes them through as one, the query alone gives them their meaning."""

    territory: str | None
    currency: str | None
    period: str | None


async def list_readable(
    session: AsyncSession,
    principal: Principal,
    *,
    after: Key | None,
    limit: int,
    territory: str | None,
    currency: str | None,
    period: str | None,
) -> list[CurrencyAggregate]:
    """A page of aggregates within the filters, of what the client may read."""
    table = CurrencyAggregate
    query = select(table).order_by(table.territory, table.currency, table.period).limit(limit)
    if after is not None:
        query = query.where(tuple_(table.territory, table.currency, table.period) > after)
    filters = [
        column == value
        for column, value in (
            (table.territory, territory),
            (table.currency, currency),
            (table.period, period),
        )
        if value is not None
    ]
    if filters:
        query = query.where(and_(*filters))
    return list((await session.scalars(_readable(query, principal))).all())


def counters_of(row: CurrencyAggregate) -> Counters:
    """The counters an aggregate row holds."""
    return Counters(
        row.transactions,
        row.issued,
        row.received_from_outside,
        row.spent_locally,
        row.spent_outside,
        row.reconverted,
    )


async def all_counters(session: AsyncSession) -> dict[Key, Counters]:
    rows = await session.scalars(select(CurrencyAggregate))
    return {(r.territory, r.currency, r.period): counters_of(r) for r in rows.all()}


def _transfer(row: CurrencyTransfer) -> Transfer:
    return Transfer(
        payer_account=row.payer_account,
        payee_account=row.payee_account,
        payer_territory=row.payer_territory,
        payee_territory=row.payee_territory,
        amount=row.amount,
        at=row.at,
        kind=row.kind,  # type: ignore[arg-type]
    )


async def stored_transfers(
    session: AsyncSession,
    *,
    currency: str | None = None,
    before: datetime | None = None,
    territory: str | None = None,
) -> list[StoredTransfer]:
    """Raw transfers in posting order (of one currency, before an instant, with a payer or
    payee in one territory, when given)."""
    query = select(CurrencyTransfer).order_by(CurrencyTransfer.at, CurrencyTransfer.seq)
    if territory is not None:
        query = query.where(
            or_(
                CurrencyTransfer.payer_territory == territory,
                CurrencyTransfer.payee_territory == territory,
            )
        )
    if currency is not None:
        query = query.where(CurrencyTransfer.currency == currency)
    if before is not None:
        query = query.where(CurrencyTransfer.at < before)
    rows = (await session.scalars(query)).all()
    return [StoredTransfer(r.transaction_id, r.currency, r.period, _transfer(r)) for r in rows]


async def velocity_sums(
    session: AsyncSession, *, currency: str, territory: str, start: datetime, end: datetime
) -> tuple[int, int, int]:
    """What a territory's velocity over [start, end) needs, summed by the database:
    (payments by the territory's accounts in the period, units its accounts held at
    ``start``, Σ over the period's transfers of their change of those units × the
    microseconds from the transfer to ``end``).

    Why sums and not the transfers: the publisher computes a velocity for every changed
    aggregate row every second; loading every transfer of the territory since the first
    one made each round's memory and time grow with the history (the soak's diagnostics
    RSS grew ~100 MiB/h). ∫M(t)dt over the period is M(start)·T + Σ δᵢ·(end − tᵢ), exact in
    integers (``rules.circulation.average_circulation`` computes the same step by step)."""
    t = CurrencyTransfer
    delta = case(
        (and_(t.kind != "reconversion", t.payee_territory == territory), t.amount), else_=0
    ) - case((and_(t.kind != "issuance", t.payer_territory == territory), t.amount), else_=0)
    in_period = t.at >= start
    micros_to_end = cast(extract("epoch", literal(end) - t.at), Numeric) * 1_000_000
    paid = case(
        (and_(in_period, t.kind == "payment", t.payer_territory == territory), t.amount), else_=0
    )
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(paid), 0),
                func.coalesce(func.sum(case((in_period, 0), else_=delta)), 0),
                func.coalesce(func.sum(case((in_period, delta * micros_to_end), else_=0)), 0),
            ).where(
                t.currency == currency,
                t.at < end,
                or_(t.payer_territory == territory, t.payee_territory == territory),
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def mark_pending(session: AsyncSession, keys: Collection[Key]) -> None:
    """Note that these aggregate rows must be published at the next flush."""
    if not keys:
        return
    await session.execute(
        pg_insert(PendingPublication)
        .values([{"territory": t, "currency": c, "period": p} for t, c, p in sorted(keys)])
        .on_conflict_do_nothing()
    )


async def take_pending(session: AsyncSession, *, limit: int) -> list[Key]:
    """Remove and return up to ``limit`` pending keys; rows another flusher holds are skipped,
    so two replicas never publish the same key twice in one round."""
    table = PendingPublication.__table__
    assert isinstance(table, Table)
    chosen = (
        select(table.c.territory, table.c.currency, table.c.period)
        .order_by(table.c.marked_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("chosen")
    )
    rows = await session.execute(
        delete(table)
        .where(
            tuple_(table.c.territory, table.c.currency, table.c.period).in_(
                select(chosen.c.territory, chosen.c.currency, chosen.c.period)
            )
        )
        .returning(table.c.territory, table.c.currency, table.c.period)
    )
    return [(t, c, p) for t, c, p in rows.all()]


async def counters_for(session: AsyncSession, keys: Collection[Key]) -> dict[Key, Counters]:
    if not keys:
        return {}
    table = CurrencyAggregate
    rows = await session.scalars(
        select(table).where(tuple_(table.territory, table.currency, table.period).in_(list(keys)))
    )
    return {(r.territory, r.currency, r.period): counters_of(r) for r in rows.all()}


async def transfers_version(
    session: AsyncSession, *, currency: str, before: datetime
) -> tuple[int, int]:
    """(how many, highest sequence) of a currency's transfers before an instant: changes
    whenever one is added there, so it keys what is computed from them."""
    count, highest = (
        await session.execute(
            select(func.count(), func.coalesce(func.max(CurrencyTransfer.seq), 0)).where(
                CurrencyTransfer.currency == currency, CurrencyTransfer.at < before
            )
        )
    ).one()
    return int(count), int(highest)
