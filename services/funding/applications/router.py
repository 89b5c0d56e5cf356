"""Applications: filing, listing within one's tenancy, workflow transitions, audit trail."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.funding.applications.schemas import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationState,
    AuditRead,
    TransitionCreate,
    TransitionRead,
)
from services.funding.applications.service import base, filing, workflow
from services.funding.http.pagination import Page, PageParams, page_of
from services.funding.http.responses import errors
from services.funding.http.scopes import Applicant, Reader
from shared.service_app import DbSession

router = APIRouter(tags=["applications"])


@router.post("/applications", status_code=201, response_model=ApplicationRead, responses=errors())
async def create_application(
    body: ApplicationCreate, session: DbSession, principal: Applicant
) -> Any:
    """File a draft application against a programme's envelope (the caller is the applicant)."""
    return await filing.create(session, principal, body)


@router.get("/applications", response_model=Page[ApplicationRead], responses=errors())
async def list_applications(
    session: DbSession,
    principal: Reader,
    page: PageParams,
    programme: Annotated[str | None, Query(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")] = None,
    state: ApplicationState | None = None,
    territory: Annotated[str | None, Query(pattern=r"^[0-9AB]{2,5}$")] = None,
) -> Any:
    """Applications this client may see: its own (applicant) or its programmes' and territories'."""
    rows, cursor = await filing.readable(
        session,
        principal,
        programme_code=programme,
        state=None if state is None else state.value,
        territory=territory,
        cursor=page.cursor,
        limit=page.limit,
    )
    return page_of(rows, cursor, ApplicationRead)


@router.get("/applications/{application_id}", response_model=ApplicationRead, responses=errors())
async def get_application(application_id: uuid.UUID, session: DbSession, principal: Reader) -> Any:
    """One application."""
    application, _, _ = await base.load(session, principal, application_id)
    return application


@router.get("/applications/{application_id}/actions", response_model=list[str], responses=errors())
async def list_allowed_actions(
    application_id: uuid.UUID, session: DbSession, principal: Reader
) -> Any:
    """Actions the caller's role may perform on the application in its current state."""
    return await workflow.actions_for(session, principal, application_id)


@router.post(
    "/applications/{application_id}/transitions",
    response_model=ApplicationRead,
    responses=errors(),
)
async def transition_application(
    application_id: uuid.UUID, body: TransitionCreate, session: DbSession, principal: Reader
) -> Any:
    """Perform a workflow action (``submit``, ``start_instruction``, ``request_correction``…).

    Applicants need ``funding:apply``, staff ``funding:instruct``; the transition table says
    which role may act from which state and which fields are required (409 lists the allowed
    actions, 422 the missing fields). Committee decisions go through committee sessions.
    """
    return await workflow.transition(
        session, principal, application_id, action_name=body.action, fields=body.fields
    )


@router.get(
    "/applications/{application_id}/transitions",
    response_model=Page[TransitionRead],
    responses=errors(),
)
async def list_transitions(
    application_id: uuid.UUID,
    session: DbSession,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
) -> Any:
    """The application's audit trail (who, when, from, to, fields), oldest first."""
    rows, next_cursor = await filing.transitions(
        session, principal, application_id, cursor=cursor, limit=limit
    )
    return page_of(rows, next_cursor, TransitionRead)


@router.get("/applications/{application_id}/audit", response_model=AuditRead, responses=errors())
async def verify_audit(application_id: uuid.UUID, session: DbSession, principal: Reader) -> Any:
    """Check the application's hash chain: any rewritten entry breaks it."""
    return await filing.audit(session, principal, application_id)
