"""Use cases of the application workflow: file a draft, move it through the transition table.

Every change locks the application row, checks the domain table, writes the new state, one
audit entry and one outbox event in the caller's transaction; nothing else commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.domain import budget, routing
from services.funding.domain.errors import (
    FundingDomainError,
    MissingFieldsError,
    NotEligibleError,
)
from services.funding.domain.territory import departement_of, match_commune
from services.funding.domain.workflow import (
    Action,
    ApplicationState,
    Role,
    apply_transition,
)
from services.funding.service import access, audit, tranches
from services.funding.service.events import application_event, budget_event
from services.funding.store import repository
from services.funding.store.models import Accompanist, Application, Call, Envelope, Programme
from shared.auth import Principal

_APPLICANT_ACTIONS = frozenset({Action.SUBMIT, Action.WITHDRAW, Action.RESUBMIT})
_COMMITTEE_ACTIONS = frozenset({Action.APPROVE, Action.REJECT, Action.ADJOURN})
_ROUTED_ACTIONS = frozenset({Action.START_INSTRUCTION, Action.DECLARE_ELIGIBLE})
_RELEASING_TARGETS = frozenset(
    {ApplicationState.WITHDRAWN, ApplicationState.CLOSED_WITHOUT_FOLLOW_UP}
)


class UnknownActionError(FundingDomainError):
    """The action is not one of the workflow's actions."""

    status, code, title = 422, "unknown-action", "Unknown workflow action"


class DecisionThroughCommitteeError(FundingDomainError):
    """Approval, rejection and adjournment are recorded through a committee session."""

    status, code, title = 409, "decision-through-committee", "Record decisions in a committee"


class UnpaidTranchesError(FundingDomainError):
    """An application cannot close while tranches remain unpaid."""

    status, code, title = 409, "unpaid-tranches", "Tranches remain unpaid"


class CallClosedError(FundingDomainError):
    """The call for projects does not accept submissions now."""

    status, code, title = 409, "call-closed", "The call for projects is not open"


async def load(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, *, lock: bool = False
) -> tuple[Application, Envelope, Programme]:
    """The application with its envelope and programme, after the tenancy check."""
    application = await repository.get(session, Application, application_id, lock=lock)
    envelope = await repository.get(session, Envelope, application.envelope_id)
    programme = await repository.get(session, Programme, application.programme_id)
    access.ensure_application(principal, application, envelope, programme)
    return application, envelope, programme


async def create(session: AsyncSession, principal: Principal, data: Any) -> Application:
    """File a draft application against an envelope of a programme."""
    envelope = await repository.envelope_by_code(session, data.envelope_code)
    programme = await repository.get(session, Programme, envelope.programme_id)
    access.ensure_envelope(principal, envelope, programme)
    problems: list[dict[str, str]] = []
    if match_commune(frozenset(programme.eligible_territories), data.commune_insee_code) is None:
        problems.append({"rule": "territory", "detail": "outside the programme's territories"})
    if data.legal_form not in programme.legal_forms:
        problems.append({"rule": "legal_form", "detail": f"{data.legal_form} not accepted"})
    if data.project_stage not in programme.project_stages:
        problems.append({"rule": "project_stage", "detail": f"{data.project_stage} not accepted"})
    if problems:
        raise NotEligibleError(
            "; ".join(f"{p['rule']}: {p['detail']}" for p in problems), failures=problems
        )
    if data.call_id is not None:
        call = await repository.get(session, Call, data.call_id)
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
    access.ensure_application(principal, application, envelope, programme)
    session.add(application)
    await session.flush()
    await audit.record(
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


async def _route(session: AsyncSession, application: Application) -> str:
    people = (await session.scalars(select(Accompanist).where(Accompanist.active))).all()
    candidates = [
        routing.Accompanist(
            accompanist_id=p.id, territories=frozenset(p.territories), capacity=p.capacity
        )
        for p in people
    ]
    load = await repository.open_cases_by_instructor(session)
    chosen = routing.route(application.commune_insee_code, candidates, open_cases=load)
    return chosen.accompanist_id


async def _check_call_open(session: AsyncSession, application: Application) -> None:
    if application.call_id is None:
        return
    call = await repository.get(session, Call, application.call_id)
    now = datetime.now(UTC)
    if not call.opens_at <= now < call.closes_at:
        raise CallClosedError(
            f"call {call.title!r} accepts submissions from {call.opens_at} to {call.closes_at}"
        )


async def _prepare_fields(
    session: AsyncSession,
    application: Application,
    programme: Programme,
    action: Action,
    given: Mapping[str, Any],
) -> dict[str, Any]:
    fields = dict(given)
    if action in _ROUTED_ACTIONS:
        if not fields.get("instructor_id"):
            fields["instructor_id"] = await _route(session, application)
        else:
            chosen = str(fields["instructor_id"])
            if len(chosen) > 100 or await session.get(Accompanist, chosen) is None:
                raise MissingFieldsError({"instructor_id": "not a registered accompanist"})
    reference = fields.get("convention_reference")
    if isinstance(reference, str) and len(reference) > 100:
        raise MissingFieldsError({"convention_reference": "at most 100 characters"})
    if action is Action.START_PAYMENT:
        # Facts of the file, never taken from the request.
        fields["granted_amount_cents"] = application.granted_amount_cents
        fields["convention_threshold_cents"] = programme.convention_threshold_cents
    if action is Action.SUBMIT:
        await _check_call_open(session, application)
    if action is Action.CLOSE:
        unpaid = [
            t.number
            for t in await repository.tranches_of(session, application.id)
            if t.status != "paid"
        ]
        if unpaid:
            raise UnpaidTranchesError(f"tranches {unpaid} are not paid", tranches=unpaid)
    return fields


async def release_unpaid(
    session: AsyncSession, application: Application, programme: Programme, envelope: Envelope
) -> None:
    """Give the unpaid part of a grant back to its envelope (withdrawal, closure)."""
    granted = application.granted_amount_cents
    if granted is None:
        return
    ordered = sum(
        t.amount_cents
        for t in await repository.tranches_of(session, application.id)
        if t.status == "ordered"
    )
    releasable = granted - application.paid_cents - ordered
    if releasable <= 0:
        return
    locked = await repository.get(session, Envelope, envelope.id, lock=True)
    current = budget.Envelope(
        ap_cents=locked.ap_cents,
        cp_cents=locked.cp_cents,
        committed_cents=locked.committed_cents,
        paid_cents=locked.paid_cents + locked.ordered_cents,
    )
    commitment = budget.Commitment(
        amount_cents=granted, paid_cents=application.paid_cents + ordered
    )
    updated, _ = budget.decommit(current, commitment, releasable)
    locked.committed_cents = updated.committed_cents
    await session.flush()
    await budget_event(
        session,
        released=True,
        envelope=locked,
        programme=programme,
        application=application,
        amount_cents=releasable,
    )


async def transition(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    action_name: str,
    fields: Mapping[str, Any],
) -> Application:
    """Perform one workflow action on an application, as the transition table allows."""
    try:
        action = Action(action_name)
    except ValueError:
        raise UnknownActionError(
            f"unknown action {action_name!r}", allowed_actions=sorted(a.value for a in Action)
        ) from None
    if action in _COMMITTEE_ACTIONS:
        raise DecisionThroughCommitteeError(
            f"'{action}' is recorded through POST /committee-sessions/{{id}}/decisions"
        )
    role = access.role_of(principal)
    access.ensure_scope(
        principal, "funding:apply" if role is Role.APPLICANT else "funding:instruct"
    )
    application, envelope, programme = await load(session, principal, application_id, lock=True)
    state = ApplicationState(application.state)
    if action in _APPLICANT_ACTIONS and role is Role.APPLICANT:
        fields = {k: v for k, v in fields.items() if k not in {"instructor_id"}}
    prepared = await _prepare_fields(session, application, programme, action, fields)
    result = apply_transition(state, action, actor_role=role, fields=prepared)
    await apply_result(
        session,
        principal,
        application=application,
        envelope=envelope,
        programme=programme,
        result=result,
    )
    return application


async def apply_result(
    session: AsyncSession,
    principal: Principal,
    *,
    application: Application,
    envelope: Envelope,
    programme: Programme,
    result: Any,
) -> None:
    """Persist an accepted transition: state, side facts, audit entry, event, payable tranches."""
    fields = dict(result.fields)
    application.state = result.new_state.value
    application.updated_at = datetime.now(UTC)
    if "instructor_id" in fields and result.action in _ROUTED_ACTIONS:
        application.instructor_id = str(fields["instructor_id"])
    if result.action is Action.SIGN_CONVENTION:
        application.convention_reference = str(fields["convention_reference"])
    if result.new_state in _RELEASING_TARGETS:
        await release_unpaid(session, application, programme, envelope)
    await session.flush()
    await audit.record(
        session,
        application,
        actor=principal.client_id,
        role=str(result.actor_role),
        action=str(result.action),
        from_state=str(result.previous_state),
        to_state=str(result.new_state),
        fields=fields,
    )
    if result.event_type != "proxima.funding.decision.recorded.v1":
        await application_event(
            session,
            result.event_type,
            application=application,
            envelope=envelope,
            programme=programme,
            actor=principal.client_id,
            result=result,
        )
    await tranches.announce_payable(session, application, programme)
