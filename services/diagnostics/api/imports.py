"""Imports of territories, sectors, perimeters and yearly data (all or nothing)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from services.diagnostics.api.common import (
    ADMIN,
    TABLE_BODY,
    Admin,
    Cursor,
    Importer,
    Limit,
    PayloadTooLarge,
    UnsupportedMediaType,
    decode_cursor,
    errors,
    next_cursor,
    read_table,
)
from services.diagnostics.api.schemas import DemoLoaded, ImportPage, ImportRead
from services.diagnostics.demo import load_demo_data
from services.diagnostics.service.errors import (
    ImportNotFound,
    ImportRejected,
    InvalidCursor,
    UnreadableBody,
)
from services.diagnostics.service.imports import ImportKind, run_import
from services.diagnostics.store import repository as repo
from shared.problems import Forbidden
from shared.service_app import DbSession

router = APIRouter(tags=["imports"])


@router.post(
    "/imports/{kind}",
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
) -> ImportRead:
    """Import a CSV or JSON file: every line is checked, and nothing is written on any error.
    Sectors are reference data of every territory: importing them also needs
    ``diagnostics:admin``."""
    if kind.admin_act and ADMIN not in principal.scopes and not principal.is_admin:
        raise Forbidden(f"importing {kind.value} is an admin act: scope {ADMIN!r} required")
    header, rows = await read_table(request)
    imported = await run_import(
        session,
        session_factory=request.app.state.session_factory,
        client_id=principal.client_id,
        kind=kind,
        header=header,
        rows=rows,
        may_access=lambda code: principal.may_access("territories", code),
        expected_years=expected_years,
    )
    return ImportRead.model_validate(imported)


@router.get("/imports", response_model=ImportPage, responses=errors(InvalidCursor))
async def list_imports(
    session: DbSession, principal: Importer, limit: Limit = 50, cursor: Cursor = None
) -> ImportPage:
    """Imports, oldest first (a client sees its own; an admin sees all)."""
    after = decode_cursor(cursor, lambda raw: (datetime.fromisoformat(raw[0]), uuid.UUID(raw[1])))
    owner = None if principal.is_admin else principal.client_id
    items = await repo.list_imports(session, after=after, limit=limit, client_id=owner)
    return ImportPage(
        items=[ImportRead.model_validate(i) for i in items],
        next_cursor=next_cursor(
            items, limit=limit, key=lambda i: [i.created_at.isoformat(), str(i.id)]
        ),
    )


@router.get("/imports/{import_id}", response_model=ImportRead, responses=errors(ImportNotFound))
async def get_import(import_id: uuid.UUID, session: DbSession, principal: Importer) -> ImportRead:
    """Status, progress (rows_done of rows_total) and line-by-line report of an import."""
    found = await repo.get_import(session, import_id)
    if found is None or not (principal.is_admin or found.client_id == principal.client_id):
        raise ImportNotFound(f"no import {import_id}")
    return ImportRead.model_validate(found)


@router.post("/admin/demo", response_model=DemoLoaded, responses=errors())
async def load_demo(session: DbSession, principal: Admin) -> DemoLoaded:
    """Load the illustrative Rhône-Alpes demo dataset (idempotent)."""
    return DemoLoaded(**await load_demo_data(session))
