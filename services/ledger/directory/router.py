"""The public directory of accepting businesses.

Curating (``/directory/listings``) is ``ledger:admin`` bound to the profile's currencies.
The ``/public/directory`` reads take no token at all: they are in the gateway's explicit
allowlist (`services.gateway.traffic.public_routes`), rate-limited there per address, and
cacheable (``Cache-Control``, a strong ``ETag``, ``304`` on ``If-None-Match``).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

from services.ledger.directory import service
from services.ledger.directory.errors import (
    AlreadyListed,
    CurrencyNotAccepted,
    ListingWithdrawn,
    NotAMerchantAccount,
)
from services.ledger.directory.schemas import (
    Category,
    ListingCreate,
    ListingProfile,
    ListingRead,
    PublicDirectoryPage,
)
from services.ledger.http.pagination import Cursor, InvalidCursor, decode_cursor, page
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Admin
from shared import public_cache
from shared.problems import Forbidden, NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(tags=["directory"])

ListingId = Annotated[UUID, Path()]
CurrencyFilter = Annotated[str | None, Query(pattern=CODE)]
CategoryFilter = Annotated[Category | None, Query()]
PublicLimit = Annotated[int, Query(ge=1, le=200, description="Page size")]
CURATION_ERRORS = problem_responses(NotFound, Forbidden)


@router.post(
    "/directory/listings",
    status_code=201,
    response_model=ListingRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(NotAMerchantAccount, CurrencyNotAccepted, AlreadyListed, NotFound),
    },
)
async def create_listing(body: ListingCreate, principal: Admin, session: DbSession) -> Any:
    """List a business in the public directory, recording its consent (who, when)."""
    return await service.create_listing(session, principal, body)


@router.get(
    "/directory/listings/{listing_id}",
    response_model=ListingRead,
    responses={**AUTH_ERRORS, **CURATION_ERRORS},
)
async def get_listing(listing_id: ListingId, principal: Admin, session: DbSession) -> Any:
    """One profile as its operator sees it, with its consent record (or its tombstone)."""
    return await service.get_listing(session, principal, listing_id)


@router.put(
    "/directory/listings/{listing_id}",
    response_model=ListingRead,
    responses={
        **AUTH_ERRORS,
        **CURATION_ERRORS,
        **problem_responses(ListingWithdrawn, CurrencyNotAccepted),
    },
)
async def update_listing(
    listing_id: ListingId, body: ListingProfile, principal: Admin, session: DbSession
) -> Any:
    """Replace the curated public profile of a listed business."""
    return await service.update_listing(session, principal, listing_id, body)


@router.post(
    "/directory/listings/{listing_id}/withdrawal",
    response_model=ListingRead,
    responses={**AUTH_ERRORS, **CURATION_ERRORS},
)
async def withdraw_listing(listing_id: ListingId, principal: Admin, session: DbSession) -> Any:
    """Withdraw a profile at the business's request: it leaves the directory at once and
    its personal data (name, address, position, hours, consent signatory) is erased."""
    return await service.withdraw_listing(session, principal, listing_id)


def _cacheable(request: Request, document: Any, media_type: str) -> Response:
    content = public_cache.json_bytes(jsonable_encoder(document))
    return public_cache.cacheable(request, content, media_type)


@router.get(
    "/public/directory",
    response_model=PublicDirectoryPage,
    responses={
        304: {"description": "Unchanged since the ETag given"},
        **problem_responses(InvalidCursor),
    },
)
async def public_directory(
    request: Request,
    session: DbSession,
    currency: CurrencyFilter = None,
    category: CategoryFilter = None,
    limit: PublicLimit = 100,
    cursor: Cursor = None,
) -> Response:
    """Businesses accepting the local currencies, listed with their consent; no token.
    Only the public profile: name, category, address, position, currencies, hours."""
    items = await service.public_page(
        session,
        currency=currency,
        category=category,
        after=decode_cursor(cursor, UUID),
        limit=limit,
    )
    document = page(items, limit=limit, key=lambda item: item["id"])
    return _cacheable(request, document, "application/json")


@router.get(
    "/public/directory.geojson",
    response_class=Response,
    responses={
        200: {"content": {"application/geo+json": {}}},
        304: {"description": "Unchanged since the ETag given"},
    },
)
async def public_directory_geojson(
    request: Request,
    session: DbSession,
    currency: CurrencyFilter = None,
    category: CategoryFilter = None,
) -> Response:
    """The directory as a GeoJSON FeatureCollection (RFC 7946) for a "where to pay" map;
    no token."""
    features = await service.public_features(session, currency=currency, category=category)
    return _cacheable(request, features, "application/geo+json")
