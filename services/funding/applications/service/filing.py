"""Use cases of filing and reading applications: a draft, lists within one's tenancy,
the audit trail and whether its hash chain still verifies."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications import repository
from services.funding.applications.errors import CallClosedError
from services.funding.applications.models import Application
from services.funding.applications.rules.audit import verify_chain
from services.funding.applications.rules.workflow import ApplicationState
from services.funding.applications.service.base import load, record_audit
from services.funding.db.repository import Page, add
from services.funding.programmes import service as programmes
from services.funding.programmes.errors import NotEligibleError
from services.funding.programmes.rules import eligibility
from services.funding.programmes.rules.territory import departement_of
from services.funding.tenancy.checks import ensure_application, ensure_envelope
from shared.auth import Principal


async def readable(
    session: AsyncSession,
    principal: Principal,
    *,
    programme_code: str | None,
    state: str | None,
    territory: str | None,
    cursor: uuid.UUID | None,
    limit: int,
) -> Page:
    """The applications this principal may see, filtered, one keyset page."""
    return await repository.readable_applications(
        session,
        principal,
        programme_code=programme_code,
        state=state,
        territory=territory,
        cursor=cursor,
        limit=limit,
    )


async def create(session: AsyncSession, principal: Principal, data: Any) -> Application:
    """File a draft application against an envelope of a programme."""
    envelope = await programmes.envelope_by_code(session, data.envelope_code)
    programme = await programmes.programme(session, envelope.programme_id)
    ensure_envelope(principal, envelope, programme)
    problems = eligibility.failures(
        territories=frozenset(programme.eligible_territories),
        legal_forms=programme.legal_forms,
        project_stages=programme.project_stages,
        commune=data.commune_insee_code,
        legal_form=data.legal_form,
        project_stage=data.project_stage,
    )
    if problems:
        raise NotEligibleError(
            "; ".join(f"{p['rule']}: {p['detail']}" for p in problems), failures=problems
        )
    if data.call_id is not None:
        call = await programmes.call(session, data.call_id)
        if call.programme_id != programme.id:
            raise CallClosedError("the call belongs to another programme")
    application = Application(
        programme_id=programme.id,
        envelope_id=envelope.id,
        call_id=data.call_id,
        applicant_client_id=principal.client_id,
        applicant_name=data.applicant_name,
        legal_form=str(data.legal_form),
        project_stage=str(data.project_stage),
        title=data.title,
        commune_insee_code=data.commune_insee_code,
        territory=departement_of(data.commune_insee_code),
        requested_amount_cents=data.requested_amount_cents,
        state=ApplicationState.DRAFT.value,
        paid_cents=0,
    )
    ensure_application(principal, application, envelope, programme)
    await add(session, application)
    await record_audit(
        session,
        application,
        actor=principal.client_id,
        role=principal.role,
        action="create",
        from_state=None,
        to_state=application.state,
        fields={"requested_amount_cents": data.requested_amount_cents},
    )
    return application


async def transitions(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    cursor: int | None,
    limit: int,
) -> Page:
    """The application's audit trail, oldest first, one keyset page."""
    await load(session, principal, application_id)
    return await repository.transitions_page(session, application_id, cursor=cursor, limit=limit)


async def audit(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> dict[str, Any]:
    """Whether the application's hash chain still verifies, and its head."""
    await load(session, principal, application_id)
    rows = await repository.transitions_of(session, application_id)
    return {
        "application_id": application_id,
        "entries": len(rows),
        "chain_valid": verify_chain(rows),
        "head_hash": rows[-1].hash if rows else None,
    }
