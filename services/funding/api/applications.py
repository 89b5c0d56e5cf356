"""Applications: filing, listing within one's tenancy, workflow transitions, audit trail."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import or_, select

from services.funding.api.dependencies import Applicant, PageParams, Reader, errors
from services.funding.api.schemas import (
    ApplicationCreate,
    ApplicationRead,
    AuditRead,
    Page,
    TransitionCreate,
    TransitionRead,
)
from services.funding.domain.workflow import ApplicationState, allowed_actions
from services.funding.service import access, applications, audit
from services.funding.store import repository
from services.funding.store.models import Application, Envelope, Programme, Transition
from shared.service_app import DbSession

router = APIRouter(tags=["applications"])


@router.post("/applications", status_code=201, response_model=ApplicationRead, responses=errors())
async def create_application(
    body: ApplicationCreate, session: DbSession, principal: Applicant
) -> Any:
    """File a draft application against a programme's envelope (the caller is the applicant)."""
    return await applications.create(session, principal, body)


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
    statement = select(Application)
    if access.is_applicant(principal):
        statement = statement.where(Application.applicant_client_id == principal.client_id)
    else:
        statement = statement.join(Programme, Programme.id == Application.programme_id).join(
            Envelope, Envelope.id == Application.envelope_id
        )
        programmes = principal.visible("programmes")
        envelopes = principal.visible("envelopes")
        partner = principal.role == "territorial_partner" and not principal.is_admin
        if partner:
            statement = statement.where(Envelope.code.in_(envelopes or frozenset()))
        elif programmes is not None:
            visible_envelopes = envelopes or frozenset()
            statement = statement.where(
                or_(Programme.code.in_(programmes), Envelope.code.in_(visible_envelopes))
            )
        territories = principal.visible("territories")
        if territories is not None:
            statement = statement.where(
                or_(
                    Application.territory.in_(territories),
                    Application.commune_insee_code.in_(territories),
                )
            )
    if programme is not None:
        statement = statement.where(
            Application.programme_id.in_(select(Programme.id).where(Programme.code == programme))
        )
    if state is not None:
        statement = statement.where(Application.state == state.value)
    if territory is not None:
        statement = statement.where(Application.territory == territory)
    rows, cursor = await repository.paginate(
        session, statement, key=Application.id, cursor=page.cursor, limit=page.limit
    )
    return {"items": [ApplicationRead.model_validate(r) for r in rows], "next_cursor": cursor}


@router.get("/applications/{application_id}", response_model=ApplicationRead, responses=errors())
async def get_application(application_id: uuid.UUID, session: DbSession, principal: Reader) -> Any:
    """One application."""
    application, _, _ = await applications.load(session, principal, application_id)
    return application


@router.get("/applications/{application_id}/actions", response_model=list[str], responses=errors())
async def list_allowed_actions(
    application_id: uuid.UUID, session: DbSession, principal: Reader
) -> Any:
    """Actions the caller's role may perform on the application in its current state."""
    application, _, _ = await applications.load(session, principal, application_id)
    role = access.role_of(principal)
    return [str(a) for a in allowed_actions(ApplicationState(application.state), role)]


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
    return await applications.transition(
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
    await applications.load(session, principal, application_id)
    statement = select(Transition).where(Transition.application_id == application_id)
    rows, next_cursor = await repository.paginate(
        session, statement, key=Transition.sequence, cursor=cursor, limit=limit
    )
    return {"items": [TransitionRead.model_validate(r) for r in rows], "next_cursor": next_cursor}


@router.get("/applications/{application_id}/audit", response_model=AuditRead, responses=errors())
async def verify_audit(application_id: uuid.UUID, session: DbSession, principal: Reader) -> Any:
    """Check the application's hash chain: any rewritten entry breaks it."""
    await applications.load(session, principal, application_id)
    rows = await repository.transitions_of(session, application_id)
    return {
        "application_id": application_id,
        "entries": len(rows),
        "chain_valid": audit.verify_chain(rows),
        "head_hash": rows[-1].hash if rows else None,
    }
