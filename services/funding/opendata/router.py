"""Open data: awarded grants in the national SCDL "subventions" CSV format."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.funding.http.responses import errors
from services.funding.http.scopes import Reader
from services.funding.opendata import service
from shared.service_app import DbSession

router = APIRouter(prefix="/reports", tags=["reporting"])


@router.get(
    "/awarded-grants.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **errors()},
)
async def awarded_grants(request: Request, session: DbSession, principal: Reader) -> Response:
    """Awarded grants in the national SCDL "subventions" open-data CSV format."""
    content = await service.awarded_grants_csv(
        session, principal, attribuant_siret=request.app.state.settings.attribuant_siret
    )
    return Response(content=content, media_type="text/csv")
