"""Open data of the currencies.

The operator of a currency opts it in or out (``diagnostics:admin`` bound to the
currency). The ``/public/opendata`` reads take no token: they are in the gateway's
explicit allowlist (`services.gateway.traffic.public_routes`), rate-limited there per
address, cacheable (``ETag``, ``304``), and name their licence (Licence Ouverte 2.0) in
the document and in a ``Link: rel="license"`` header.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Admin
from services.diagnostics.opendata import service
from services.diagnostics.opendata.errors import NotPublished
from services.diagnostics.opendata.schemas import OpenDataDocument, Publication
from shared import public_cache
from shared.problems import problem_responses
from shared.service_app import DbSession

router = APIRouter(tags=["open data"])

CODE = r"^[A-Z][A-Z0-9_]{1,15}$"
Currency = Annotated[str, Path(pattern=CODE)]
CurrencyFilter = Annotated[str | None, Query(pattern=CODE)]
LICENCE_LINK = f'<{service.LICENCE["url"]}>; rel="license"'
PUBLIC_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Unchanged since the ETag given"},
    **problem_responses(NotPublished),
}


@router.put("/opendata/currencies/{currency}", response_model=Publication, responses=errors())
async def opt_in(currency: Currency, session: DbSession, principal: Admin) -> Any:
    """Publish the currency's monthly figures as open data (its operator's decision)."""
    return await service.opt_in(session, principal, currency)


@router.get(
    "/opendata/currencies/{currency}",
    response_model=Publication,
    responses=errors(NotPublished),
)
async def get_publication(currency: Currency, session: DbSession, principal: Admin) -> Any:
    """Whether, since when and by whom the currency is published as open data."""
    return await service.publication(session, principal, currency)


@router.delete("/opendata/currencies/{currency}", status_code=204, responses=errors(NotPublished))
async def opt_out(currency: Currency, session: DbSession, principal: Admin) -> Response:
    """Stop publishing the currency as open data."""
    await service.opt_out(session, principal, currency)
    return Response(status_code=204)


@router.get(
    "/public/opendata/currency-figures.json",
    response_model=OpenDataDocument,
    responses=PUBLIC_RESPONSES,
)
async def figures_json(
    request: Request, session: DbSession, currency: CurrencyFilter = None
) -> Response:
    """Monthly figures per currency and territory (circulation, velocity, reconversion
    leakage, active accounts) of the currencies whose operator opted in; closed months
    only; small or dominated cells and their partners withheld. No token."""
    document = await service.document(session, currency=currency, now=datetime.now(UTC))
    content = public_cache.json_bytes(OpenDataDocument(**document).model_dump(mode="json"))
    return public_cache.cacheable(request, content, "application/json", Link=LICENCE_LINK)


@router.get(
    "/public/opendata/currency-figures.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **PUBLIC_RESPONSES},
)
async def figures_csv(
    request: Request, session: DbSession, currency: CurrencyFilter = None
) -> Response:
    """The same figures as CSV with French headers (``secret_statistique`` = ``oui`` on a
    withheld line), under Licence Ouverte 2.0. No token."""
    document = await service.document(session, currency=currency, now=datetime.now(UTC))
    content = service.as_csv(document).encode()
    return public_cache.cacheable(request, content, "text/csv; charset=utf-8", Link=LICENCE_LINK)
