"""Audit of a currency: its hash chain verified, and its journal exported (the French FEC
and plain CSV, streamed). HTTP only.

Journal exports need scope ``ledger:read`` and every member's movements: for the currency's
operator, or an accountant or auditor holding ``ledger:audit`` bound to the currency (read
rights over every account, not the operator's admin rights).

Final or provisional: a journal up to ``to`` is final once the currency is closed through
``to`` and every transaction dated up to it is sealed (it can no longer change); the
``Proxima-Journal-Status`` header says ``final`` or ``provisional``. A provisional FEC's file
name also ends in ``-provisoire``, so the legal name (``…FECAAAAMMJJ.txt``) is only ever
given to a final file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.audit.schemas import ChainVerification
from services.ledger.audit.service import journal, verification
from services.ledger.authority.errors import OperatorActRequired
from services.ledger.errors import InvalidPeriod
from services.ledger.http.media import (
    CSV_MEDIA_TYPE,
    FEC_MEDIA_TYPE,
    CsvResponse,
    FecResponse,
    attachment,
)
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Reader
from shared.auth import Principal
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession
from shared.strict_types import IsoDate

router = APIRouter(prefix="/currencies", tags=["audit"])

Code = Annotated[str, Path(pattern=CODE)]
From = Annotated[
    IsoDate | None, Query(alias="from", description="First effective date included (YYYY-MM-DD)")
]
To = Annotated[
    IsoDate | None, Query(alias="to", description="Last effective date included (YYYY-MM-DD)")
]
ERRORS = {**AUTH_ERRORS, **problem_responses(NotFound, InvalidPeriod, OperatorActRequired)}
STATUS_HEADER = "Proxima-Journal-Status"
STATUS_DOC = {
    STATUS_HEADER: {
        "description": "`final` (closed through `to` and wholly sealed) or `provisional`",
        "schema": {"type": "string", "enum": ["final", "provisional"]},
    }
}


def _file_date(date_to: date | None) -> str:
    return (date_to or date.today()).strftime("%Y%m%d")


@dataclass(frozen=True, slots=True)
class JournalExport:
    """A journal export's request: the currency, the reader (its operator, or an
    accountant or auditor bound to it), the unit of work and the period asked for."""

    code: str
    request: Request
    principal: Principal
    session: AsyncSession
    date_from: date | None
    date_to: date | None

    async def stream(
        self,
        *,
        render: Callable[[AsyncIterator[Any]], AsyncIterator[bytes]],
        media_type: str,
        name: Callable[[bool], str],
    ) -> StreamingResponse:
        """The currency's journal lines for the period, streamed as a ``render``ed file
        named ``name(final)``."""
        final, lines = await journal.open_journal(
            self.session,
            self.request.app.state.session_factory,
            self.principal,
            currency=self.code,
            date_from=self.date_from,
            date_to=self.date_to,
        )
        headers = {**attachment(name(final)), STATUS_HEADER: "final" if final else "provisional"}
        return StreamingResponse(render(lines), media_type=media_type, headers=headers)


async def journal_export(
    code: Code,
    request: Request,
    principal: Reader,
    session: DbSession,
    date_from: From = None,
    date_to: To = None,
) -> JournalExport:
    return JournalExport(code, request, principal, session, date_from, date_to)


# ``scope="function"``: it holds the session, whose unit of work ends before the answer.
Export = Annotated[JournalExport, Depends(journal_export, scope="function")]


@router.get(
    "/{code}/audit/verify",
    response_model=ChainVerification,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def verify(code: Code, principal: Reader, session: DbSession) -> Any:
    """Recompute the currency's hash chain from its postings; name the first broken link.

    Transactions committed in the last second or so are not sealed yet: they are counted
    in ``unsealed_transactions``, not verified."""
    return await verification.verify(session, principal, code)


@router.get(
    "/{code}/journal.fec",
    response_class=FecResponse,
    responses={
        200: {"description": "The FEC file (tab-separated, ISO-8859-15)", "headers": STATUS_DOC},
        **ERRORS,
    },
)
async def journal_fec(export: Export) -> Any:
    """The currency's sealed journal as a French FEC file (Fichier des Écritures
    Comptables): one line per posting, tab-separated, a positive posting is a Credit; final
    for a closed, wholly sealed period, else named ``…-provisoire.txt``."""
    day = _file_date(export.date_to)
    return await export.stream(
        render=journal.fec_stream,
        media_type=f"{FEC_MEDIA_TYPE}; charset=iso-8859-15",
        name=lambda final: f"{export.code}FEC{day}{'' if final else '-provisoire'}.txt",
    )


@router.get(
    "/{code}/journal.csv",
    response_class=CsvResponse,
    responses={
        200: {"description": "The journal as CSV (UTF-8, header row)", "headers": STATUS_DOC},
        **ERRORS,
    },
)
async def journal_csv(export: Export) -> Any:
    """The currency's sealed journal as CSV, one row per posting, amounts in minor units
    (``amount``) and in units with a dot (``amount_decimal``)."""
    return await export.stream(
        render=journal.csv_stream,
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        name=lambda final: f"{export.code}-journal-{_file_date(export.date_to)}.csv",
    )
