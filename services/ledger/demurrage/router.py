"""Demurrage runs of a currency: start (or resume) one for a closed period, follow its
progress. HTTP only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from services.ledger.authority.errors import OperatorActRequired
from services.ledger.currencies.errors import UnknownCurrency
from services.ledger.demurrage import service
from services.ledger.demurrage.errors import DemurrageNotConfigured
from services.ledger.demurrage.schemas import DemurrageRunCreate, DemurrageRunRead
from services.ledger.errors import InvalidPeriod
from services.ledger.http.scopes import AUTH_ERRORS, DemurrageOperator, Reader
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession
from shared.strict_types import IsoDate

router = APIRouter(prefix="/currencies/{code}", tags=["reserves"])

Code = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]


@router.post(
    "/demurrage-runs",
    response_model=DemurrageRunRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            UnknownCurrency, DemurrageNotConfigured, InvalidPeriod, OperatorActRequired
        ),
    },
)
async def run_demurrage(
    code: Code, body: DemurrageRunCreate, principal: DemurrageOperator, request: Request
) -> Any:
    """Charge demurrage for one closed period; asking again resumes or returns the run (an
    operator act)."""
    return await service.start_run(
        request.app.state.session_factory,
        principal,
        currency=code,
        period_start=body.period_start,
        fund=body.fund_account_id,
    )


@router.get(
    "/demurrage-runs/{period_start}",
    response_model=DemurrageRunRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def get_demurrage_run(
    code: Code, period_start: IsoDate, principal: Reader, session: DbSession
) -> Any:
    """Progress of a demurrage run."""
    return await service.read_run(session, principal, currency=code, period_start=period_start)
