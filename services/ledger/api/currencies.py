"""Currencies: registered by an operator with their rules."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.ledger import service
from services.ledger.api.common import visible_currency
from services.ledger.currencies.errors import CurrencyExists, InvalidCurrencyRules
from services.ledger.currencies.schemas import CurrencyCreate, CurrencyPage, CurrencyRead
from services.ledger.http.pagination import Cursor, InvalidCursor, Limit, decode_cursor, page
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Reader
from services.ledger.store import repository as repo
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies", tags=["currencies"])


def currency_code(raw: str) -> str:
    if not re.fullmatch(CODE, raw):
        raise ValueError("not a currency code")
    return raw


def _view(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in ("code", "kind", "scale", "operator", "rules")}


@router.post(
    "",
    status_code=201,
    response_model=CurrencyRead,
    responses={**AUTH_ERRORS, **problem_responses(CurrencyExists, InvalidCurrencyRules)},
)
async def create_currency(body: CurrencyCreate, principal: Admin, session: DbSession) -> Any:
    """Register a currency and its rules (operator of that currency only)."""
    principal.ensure_access("currencies", body.code)
    row = await service.create_currency(
        session,
        code=body.code,
        kind=body.kind.value,
        scale=body.scale,
        operator=body.operator,
        rules=body.rules.model_dump(exclude_none=True),
    )
    return _view(row)


@router.get(
    "", response_model=CurrencyPage, responses={**AUTH_ERRORS, **problem_responses(InvalidCursor)}
)
async def list_currencies(
    principal: Reader, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> Any:
    """Currencies this client may see, by code."""
    rows = await repo.list_currencies(
        session,
        visible=principal.visible("currencies"),
        after=decode_cursor(cursor, currency_code),
        limit=limit,
    )
    return page([_view(r) for r in rows], limit=limit, key=lambda c: c["code"])


@router.get(
    "/{code}", response_model=CurrencyRead, responses={**AUTH_ERRORS, **problem_responses(NotFound)}
)
async def get_currency(
    code: Annotated[str, Path(pattern=CODE)], principal: Reader, session: DbSession
) -> Any:
    """One currency and its rules."""
    return _view(await visible_currency(session, principal, code))
