"""Use cases of the application workflow: move a file through the transition table.

Every change locks the application row, checks the transition table, writes the new state,
one audit entry and one outbox event in the caller's transaction; nothing else commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications import repository
from services.funding.applications.errors import (
    CallClosedError,
    DecisionThroughCommitteeError,
    MissingFieldsError,
    UnknownActionError,
    UnpaidTranchesError,
)
from services.funding.applications.events import application_event
from services.funding.applications.models import Application
from services.funding.applications.rules.workflow import (
    DECISION_RECORDED_EVENT,
    Action,
    ApplicationState,
    Role,
    TransitionResult,
    allowed_actions,
    apply_transition,
)
from services.funding.applications.service.base import load, record_audit
from services.funding.programmes import service as programmes
from services.funding.programmes.models import Envelope, Programme
from services.funding.programmes.rules.budget import Commitment
from services.funding.tenancy.roles import ensure_scope, role_of
from services.funding.tranches import service as tranches
from shared.auth import Principal

_APPLICANT_ACTIONS = frozenset({Action.SUBMIT, Action.WITHDRAW, Action.RESUBMIT})
_COMMITTEE_ACTIONS = frozenset({Action.APPROVE, Action.REJECT, Action.ADJOURN})
_ROUTED_ACTIONS = frozenset({Action.START_INSTRUCTION, Action.DECLARE_ELIGIBLE})
_RELEASING_TARGETS = frozenset(
    {ApplicationState.WITHDRAWN, ApplicationState.CLOSED_WITHOUT_FOLLOW_UP}
)


async def actions_for(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> list[str]:
    """The actions the principal's role may perform on the application in its state."""
    application, _, _ = await load(session, principal, application_id)
    role = role_of(principal)
    return [str(a) for a in allowed_actions(ApplicationState(application.state), role)]


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
    role = role_of(principal)
    ensure_scope(principal, "funding:apply" if role is Role.APPLICANT else "funding:instruct")
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
            open_cases = await repository.open_cases_by_instructor(session)
            fields["instructor_id"] = await programmes.assign_accompanist(
                session, application.commune_insee_code, open_cases=open_cases
            )
        else:
            chosen = str(fields["instructor_id"])
            if len(chosen) > 100 or not await programmes.is_accompanist(session, chosen):
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
        unpaid = await tranches.unpaid_numbers(session, application.id)
        if unpaid:
            raise UnpaidTranchesError(f"tranches {unpaid} are not paid", tranches=unpaid)
    return fields


async def _check_call_open(session: AsyncSession, application: Application) -> None:
    if application.call_id is None:
        return
    call = await programmes.call(session, application.call_id)
    now = datetime.now(UTC)
    if not call.opens_at <= now < call.closes_at:
        raise CallClosedError(
            f"call {call.title!r} accepts submissions from {call.opens_at} to {call.closes_at}"
        )


async def _release_unpaid(
    session: AsyncSession, application: Application, programme: Programme, envelope: Envelope
) -> None:
    """Give the unpaid part of a grant back to its envelope (withdrawal, closure)."""
    granted = application.granted_amount_cents
    if granted is None:
        return
    ordered = await tranches.ordered_cents(session, application.id)
    releasable = granted - application.paid_cents - ordered
    if releasable <= 0:
        return
    await programmes.change_commitment(
        session,
        envelope=envelope,
        owner=programme,
        grantee=application,
        amount_cents=releasable,
        release_from=Commitment(amount_cents=granted, paid_cents=application.paid_cents + ordered),
    )


async def apply_result(
    session: AsyncSession,
    principal: Principal,
    *,
    application: Application,
    envelope: Envelope,
    programme: Programme,
    result: TransitionResult,
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
        await _release_unpaid(session, application, programme, envelope)
    await session.flush()
    await record_audit(
        session,
        application,
        actor=principal.client_id,
        role=str(result.actor_role),
        action=str(result.action),
        from_state=str(result.previous_state),
        to_state=str(result.new_state),
        fields=fields,
    )
    if result.event_type != DECISION_RECORDED_EVENT:
        await application_event(
            session,
            application=application,
            envelope=envelope,
            programme=programme,
            actor=principal.client_id,
            result=result,
        )
    await tranches.announce_payable(session, application, programme)
