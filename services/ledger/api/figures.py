"""Per-currency dashboard figures: circulation, velocity, reconversion leakage.

The formulas are documented in `services.ledger.domain.figures`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from services.ledger.api.common import visible_currency
from services.ledger.figures.rules import figures
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Reader
from services.ledger.store import figures as store
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies", tags=["figures"])


class CurrencyFigures(BaseModel):
    currency: str
    window_days: int
    window_start: datetime
    window_end: datetime
    circulation: int
    circulation_at_start: int
    average_circulation: float
    transfer_count: int
    transfer_volume: int
    velocity: float | None
    issued: int
    reconverted: int
    leakage: float | None
    leakage_share_of_volume: float | None


@router.get(
    "/{code}/figures",
    response_model=CurrencyFigures,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def currency_figures(
    code: Annotated[str, Path(pattern=CODE)],
    principal: Reader,
    session: DbSession,
    window_days: Annotated[int, Query(ge=1, le=366, description="Window length in days")] = 30,
) -> Any:
    """Circulation now, transfers and velocity over the window, and reconversion leakage:
    circulation = positive member and merchant balances; velocity = transfer volume /
    mean of the circulation at the window's start and end; leakage = reconverted / issued."""
    await visible_currency(session, principal, code)
    end = await store.now(session)
    start = end - timedelta(days=window_days)
    at_start = await store.circulation(session, currency=code, at=start)
    at_end = await store.circulation(session, currency=code, at=None)
    flows = await store.window_flows(session, currency=code, since=start)
    return {
        "currency": code,
        "window_days": window_days,
        "window_start": start,
        "window_end": end,
        **figures(at_start=at_start, at_end=at_end, flows=flows),
    }
