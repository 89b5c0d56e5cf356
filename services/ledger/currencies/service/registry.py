"""The registry of currencies: create one, read its rules and kind, list those a client
may see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.currencies import repository as repo
from services.ledger.currencies.errors import CurrencyExists, UnknownCurrency
from services.ledger.currencies.rules.currency import CurrencyRules, rules_from
from services.ledger.database.outbox import emit
from shared.auth import Principal
from shared.events.catalog.ledger import CurrencyCreated
from shared.problems import NotFound


async def create_currency(
    session: AsyncSession, *, code: str, kind: str, scale: int, operator: str, rules: dict[str, Any]
) -> RowMapping:
    rules_from(code, kind, scale, rules)
    row = await repo.insert_currency(
        session, code=code, kind=kind, scale=scale, operator=operator, rules=rules
    )
    if row is None:
        raise CurrencyExists(f"currency {code} already exists", currency=code)
    await emit(session, CurrencyCreated(currency=code, kind=kind, operator=operator), code)
    return row


async def currency_rules(session: AsyncSession, code: str) -> CurrencyRules:
    row = await repo.get_currency(session, code)
    if row is None:
        raise UnknownCurrency(f"no currency {code}", currency=code)
    return rules_from(row["code"], row["kind"], row["scale"], row["rules"])


_currency_kinds: dict[tuple[str, str], str] = {}


async def currency_kind(session: AsyncSession, code: str) -> str | None:
    """A currency's kind, cached per database: kinds never change once created."""
    key = (str(session.get_bind().engine.url), code)
    kind = _currency_kinds.get(key)
    if kind is None:
        row = await repo.get_currency(session, code)
        if row is None:
            return None
        kind = _currency_kinds[key] = str(row["kind"])
    return kind


async def visible_currency(session: AsyncSession, principal: Principal, code: str) -> RowMapping:
    """The currency, once the caller's tenant binding allows it (403) and it exists (404)."""
    principal.ensure_access("currencies", code)
    row = await repo.get_currency(session, code)
    if row is None:
        raise NotFound(f"no currency {code}")
    return row


async def list_currencies(
    session: AsyncSession, principal: Principal, *, after: str | None, limit: int
) -> Sequence[RowMapping]:
    """Currencies this client may see, by code."""
    return await repo.list_currencies(
        session, visible=principal.visible("currencies"), after=after, limit=limit
    )
