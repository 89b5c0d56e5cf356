"""Streams of the journal exports, read in keyset pages, one short transaction per page.

Why a transaction per page rather than one for the whole download: a slow client would
otherwise keep a transaction open for minutes, holding back vacuum and the audit sealer's
watermark. Pages are keyed on the append-only chain position, so they never overlap.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ledger.audit import repository as repo
from services.ledger.audit.rules.journal import (
    CSV_COLUMNS,
    FEC_ENCODING,
    JournalLine,
    csv_row,
    fec_header,
    fec_line,
)
from services.ledger.authority.service import checks as authority
from services.ledger.closings import service as closings
from services.ledger.currencies.service.registry import visible_currency
from services.ledger.errors import InvalidPeriod
from shared import csv_safety
from shared.auth import Principal

PAGE = 500


async def journal_lines(
    factory: async_sessionmaker[AsyncSession],
    *,
    currency: Any,
    date_from: date | None,
    date_to: date | None,
    page: int = PAGE,
) -> AsyncIterator[list[JournalLine]]:
    after = 0
    while True:
        async with factory() as session, session.begin():
            rows = await repo.journal_page(
                session,
                currency=currency["code"],
                after_position=after,
                limit=page,
                date_from=date_from,
                date_to=date_to,
            )
        if not rows:
            return
        yield [
            JournalLine(
                currency=currency["code"],
                currency_kind=currency["kind"],
                scale=currency["scale"],
                position=r["position"],
                transaction_id=r["transaction_id"],
                kind=r["kind"],
                description=r["description"],
                effective_date=r["effective_date"],
                sealed_at=r["sealed_at"],
                account_id=r["account_id"],
                account_type=r["account_type"],
                account_name=r["account_name"],
                amount=r["amount"],
            )
            for r in rows
        ]
        positions = {r["position"] for r in rows}
        if len(positions) < page:
            return
        after = max(positions)


async def fec_stream(lines: AsyncIterator[list[JournalLine]]) -> AsyncIterator[bytes]:
    yield fec_header().encode(FEC_ENCODING)
    async for chunk in lines:
        yield "".join(fec_line(line) for line in chunk).encode(FEC_ENCODING, errors="replace")


async def csv_stream(lines: AsyncIterator[list[JournalLine]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv_safety.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue().encode()
    async for chunk in lines:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(csv_row(line) for line in chunk)
        yield buffer.getvalue().encode()


async def journal_is_final(session: AsyncSession, *, currency: str, date_to: date | None) -> bool:
    """True when a journal up to ``date_to`` can no longer change: the currency is closed
    through it and every transaction dated up to it is sealed (the exports list sealed
    transactions only, and the sealer trails commits by a second or so)."""
    if date_to is None:
        return False
    closed_through = await closings.latest_closing(session, currency)
    if closed_through is None or date_to > closed_through:
        return False
    unsealed = await repo.count_unsealed(session, currency=currency, effective_through=date_to)
    return unsealed == 0


async def open_journal(
    session: AsyncSession,
    factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    currency: str,
    date_from: date | None,
    date_to: date | None,
) -> tuple[bool, AsyncIterator[list[JournalLine]]]:
    """Whether the currency's journal up to ``date_to`` is final, and its lines for the
    period, read page by page: for its operator, or an auditor."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidPeriod("from must not be after to")
    row = dict(await visible_currency(session, principal, currency))
    authority.ensure_operator_read(principal, currency, what="the currency's journal")
    final = await journal_is_final(session, currency=currency, date_to=date_to)
    lines = journal_lines(factory, currency=row, date_from=date_from, date_to=date_to)
    return final, lines
