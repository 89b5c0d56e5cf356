"""Use cases of period closings: close, list, and check effective dates against them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime

from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.closings import repository as repo
from services.ledger.closings.errors import AlreadyClosed, ClosingNotPast
from services.ledger.closings.rules import check_closing, check_effective_date
from services.ledger.currencies.rules.currency import rules_from
from services.ledger.currencies.service.registry import visible_currency
from services.ledger.errors import LedgerDomainError
from shared.auth import Principal


def today() -> date:
    """Today in UTC: the day every date bound of the ledger is measured from."""
    return datetime.now(UTC).date()


async def close(
    session: AsyncSession, principal: Principal, *, currency: str, through: date
) -> RowMapping:
    """Close ``currency``'s books through ``through``: an act of its operator."""
    await visible_currency(session, principal, currency)
    return await close_as(session, authority.actor(principal), currency=currency, through=through)


async def close_as(
    session: AsyncSession, who: Actor, *, currency: str, through: date
) -> RowMapping:
    """`close` on behalf of ``who`` (a token's actor, or a schedule's standing
    authorisation): it must operate the currency."""
    authority.ensure_operator(who, currency, act="closing a period")
    await repo.lock_periods(session, currency)
    latest = await repo.latest_closing(session, currency)
    check_closing(through=through, today=today(), latest=latest)
    try:
        return await repo.insert_closing(
            session, currency=currency, through=through, closed_by=who.principal
        )
    except IntegrityError as exc:
        # The database checks the same two rules (tr_period_closings_follow); it disagrees
        # only when its clock and ours fall on both sides of midnight UTC.
        name = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        if name == "ck_period_closings_past":
            raise ClosingNotPast(f"{through} is not before today (UTC)") from exc
        if name == "ck_period_closings_after_previous":
            raise AlreadyClosed(f"{currency} is already closed through {through} or later") from exc
        raise


async def list_closings(
    session: AsyncSession, principal: Principal, currency: str, *, after: date | None, limit: int
) -> Sequence[RowMapping]:
    """The currency's closings, oldest first, for a caller its tenancy lets see it."""
    await visible_currency(session, principal, currency)
    return await repo.list_closings(session, currency, after=after, limit=limit)


async def latest_closing(session: AsyncSession, currency: str) -> date | None:
    """The date the currency is closed through, if it ever was."""
    return await repo.latest_closing(session, currency)


async def check_effective_dates(
    session: AsyncSession,
    dated: Sequence[tuple[date | None, Collection[str]]],
    *,
    batch: bool = False,
) -> None:
    """Refuse any explicit effective date (None: today) after today, in a closed period or
    older than its currencies' backdating window, for each (date, currencies) of ``dated``.
    In a ``batch``, a refusal names its item's index (``extra["item"]``)."""
    codes = {code for day, currencies in dated if day is not None for code in currencies}
    if not codes:
        return
    bounds = {
        row["code"]: (
            rules_from(row["code"], row["kind"], row["scale"], row["rules"]),
            row["closed_through"],
        )
        for row in await repo.dating_rules(session, codes)
    }
    now = today()
    for index, (day, currencies) in enumerate(dated):
        if day is None:
            continue
        try:
            # Unknown currencies are left to the posting's own refusal.
            for code in sorted(c for c in currencies if c in bounds):
                rules, closed_through = bounds[code]
                check_effective_date(
                    effective=day,
                    today=now,
                    currency=code,
                    max_backdating_days=rules.max_backdating_days,
                    closed_through=closed_through,
                )
        except LedgerDomainError as exc:
            if batch:
                exc.extra["item"] = index
            raise
