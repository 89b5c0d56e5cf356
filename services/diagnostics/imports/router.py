"""Imports of territories, sectors, perimeters and yearly data (all or nothing)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from starlette.convertors import StringConvertor, register_url_convertor

from services.diagnostics.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    next_cursor,
)
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Importer
from services.diagnostics.imports import service
from services.diagnostics.imports.body import TABLE_BODY, read_table
from services.diagnostics.imports.errors import (
    ImportNotFound,
    ImportRejected,
    PayloadTooLarge,
    UnreadableBody,
    UnsupportedMediaType,
)
from services.diagnostics.imports.schemas import ImportKind, ImportPage, ImportRead
from shared.service_app import DbSession

router = APIRouter(tags=["imports"])


class KindConvertor(StringConvertor):
    """``/imports/{kind}`` matches only the import kinds, and ``/imports/{import_id}`` only
    UUIDs: a GET of a kind, or a POST to an import's id, is then a 405 naming the methods
    of that path, not a 422 about a parameter of the other route."""

    regex = "|".join(re.escape(kind.value) for kind in ImportKind)


register_url_convertor("import_kind", KindConvertor())


@router.post(
    "/imports/{kind:import_kind}",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportRead,
    openapi_extra=TABLE_BODY,
    responses=errors(ImportRejected, UnreadableBody, UnsupportedMediaType, PayloadTooLarge),
)
async def create_import(
    kind: ImportKind,
    request: Request,
    session: DbSession,
    principal: Importer,
    expected_years: Annotated[
        list[int] | None,
        Query(description="Years every territory of the file must have (data files only)"),
    ] = None,
    sheet: Annotated[
        str | None,
        Query(max_length=31, description="XLSX: the sheet to read (default: the first)"),
    ] = None,
    geography_year: Annotated[
        int | None,
        Query(
            ge=1943,
            le=2100,
            description="INSEE reference files: the year of their geography (1 January); "
            "figures files: carry their communes onto that geography (mouvements)",
        ),
    ] = None,
    level: Annotated[
        Literal["commune", "epci", "departement", "region", "zone_emploi"],
        Query(
            description="Filosofi, tourism-capacity, census-housing: the level of the file's "
            "CODGEO (one file per level)"
        ),
    ] = "commune",
    year: Annotated[
        int | None,
        Query(
            ge=1990,
            le=2100,
            description="IRCOM: the year of the incomes (« revenus 2022 »: 2022), which its "
            "columns do not name",
        ),
    ] = None,
) -> ImportRead:
    """Import a CSV or JSON file: every line is checked, and nothing is written on any error.
    INSEE's reference files (``cog-communes``, ``cog-mouvements``, ``zones-emploi-2020``,
    ``zones-emploi-2010``, ``epci-composition``) and statistics files (``insee-employment``:
    jobs by commune and A38/A88 sector; ``filosofi``: income sources, ``?level=``;
    ``ircom``: the DGFiP's income tax by commune, ``?year=`` of the incomes;
    ``tourism-capacity``: INSEE's tourist accommodation; ``census-housing``: the census's
    secondary homes) are read in their published layouts, semicolon or comma, UTF-8 or
    latin-1, or XLSX with title rows.
    Sectors are reference data of every territory: importing them also needs
    ``diagnostics:admin``."""
    service.ensure_may_import(principal, kind)
    header, rows = await read_table(request, sheet)
    imported = await service.run_import(
        session,
        principal,
        session_factory=request.app.state.session_factory,
        kind=kind,
        header=header,
        rows=rows,
        expected_years=expected_years,
        geography_year=geography_year,
        level=level,
        year=year,
    )
    return ImportRead.model_validate(imported)


@router.get("/imports", response_model=ImportPage, responses=errors(InvalidCursor))
async def list_imports(
    session: DbSession, principal: Importer, limit: Limit = 50, cursor: Cursor = None
) -> ImportPage:
    """Imports, oldest first (a client sees its own; an admin sees all)."""
    after = decode_cursor(cursor, lambda raw: (datetime.fromisoformat(raw[0]), uuid.UUID(raw[1])))
    items = await service.list_imports(session, principal, after=after, limit=limit)
    return ImportPage(
        items=[ImportRead.model_validate(i) for i in items],
        next_cursor=next_cursor(
            items, limit=limit, key=lambda i: [i.created_at.isoformat(), str(i.id)]
        ),
    )


@router.get(
    "/imports/{import_id:uuid}", response_model=ImportRead, responses=errors(ImportNotFound)
)
async def get_import(import_id: uuid.UUID, session: DbSession, principal: Importer) -> ImportRead:
    """Status, progress (rows_done of rows_total) and line-by-line report of an import."""
    return ImportRead.model_validate(await service.get_import(session, principal, import_id))
