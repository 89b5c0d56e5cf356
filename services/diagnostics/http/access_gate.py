"""Diagnostics' tenancy checks per path parameter, run before a 422
(`shared.access_first`): a malformed request about a territory or a perimeter outside the
caller's binding is refused exactly as a well-formed one is."""

from __future__ import annotations

from datetime import date

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.perimeters import service as perimeters
from services.diagnostics.territories import service as territories
from shared.auth import Principal


async def diagnostics_access_gate(
    request: Request, principal: Principal, session: AsyncSession
) -> None:
    code = request.path_params.get("code")
    if code is None:
        return
    if (kind := request.path_params.get("kind")) is not None and "/perimeters/" in request.url.path:
        await perimeters.communes_on(
            session, principal, kind=str(kind), code=str(code), at=date.today()
        )
    elif "/territories/" in request.url.path:
        await territories.get_readable(session, principal, str(code))
