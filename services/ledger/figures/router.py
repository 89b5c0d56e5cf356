"""Per-currency dashboard figures: circulation, velocity, reconversion leakage. HTTP only.

The formulas are documented in `services.ledger.figures.rules`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.ledger.figures import service
from services.ledger.figures.schemas import CurrencyFigures
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Reader
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies", tags=["figures"])


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
    return await service.currency_figures(session, principal, code, window_days=window_days)
