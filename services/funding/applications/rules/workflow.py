"""The grant application workflow as one explicit transition table (why a table:
docs/decisions/funding-workflow-as-a-table.md). Each row says who may act, what the actor
must write (a refusal needs a written reason, an approval an amount and a deliberation
number) and which event the change emits, so the service only persists the result and
writes the event to its outbox.

Roles are checked here only as *kinds* of actor; whether this instructor handles this
application, or this territorial partner holds this envelope, is a tenancy check that
belongs to the service layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from services.funding.applications.errors import (
    ConventionRequiredError,
    ForbiddenRoleError,
    IllegalTransitionError,
    MissingFieldsError,
)
from services.funding.tranches.rules import convention_required


class ApplicationState(StrEnum):
    """Where an application stands; values are stored as-is in the database."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ELIGIBILITY_CHECK = "eligibility_check"
    IN_INSTRUCTION = "in_instruction"
    CORRECTION_REQUESTED = "correction_requested"
    IN_COMMITTEE = "in_committee"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CLOSED_WITHOUT_FOLLOW_UP = "closed_without_follow_up"
    CONVENTION_SIGNED = "convention_signed"
    IN_PAYMENT = "in_payment"
    FINAL_REPORT_RECEIVED = "final_report_received"
    CLOSED = "closed"


class Action(StrEnum):
    """What an actor asks to do to an application."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    START_ELIGIBILITY_CHECK = "start_eligibility_check"
    DECLARE_ELIGIBLE = "declare_eligible"
    DECLARE_INELIGIBLE = "declare_ineligible"
    START_INSTRUCTION = "start_instruction"
    REQUEST_CORRECTION = "request_correction"
    RESUBMIT = "resubmit"
    SEND_TO_COMMITTEE = "send_to_committee"
    RETURN_TO_INSTRUCTION = "return_to_instruction"
    APPROVE = "approve"
    REJECT = "reject"
    ADJOURN = "adjourn"
    CLOSE_WITHOUT_FOLLOW_UP = "close_without_follow_up"
    SIGN_CONVENTION = "sign_convention"
    START_PAYMENT = "start_payment"
    RECEIVE_FINAL_REPORT = "receive_final_report"
    REJECT_FINAL_REPORT = "reject_final_report"
    CLOSE = "close"


class Role(StrEnum):
    """Kinds of actor; tenancy (which programme, territory, envelope) is checked elsewhere."""

    APPLICANT = "applicant"
    INSTRUCTOR = "instructor"  # the local accompanist who instructs the file
    PROGRAMME_OFFICER = "programme_officer"
    COMMITTEE = "committee"
    REGIONAL_ADMIN = "regional_admin"
    TERRITORIAL_PARTNER = "territorial_partner"  # a CDDRA or PNR holding a delegated envelope


Guard = Callable[[Mapping[str, object]], None]
"""Extra check on the fields of a transition; raises a FundingDomainError to refuse."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the table: from ``source``, ``action`` by one of ``roles`` leads to ``target``."""

    source: ApplicationState
    action: Action
    target: ApplicationState
    roles: frozenset[Role]
    event_type: str
    required_fields: tuple[str, ...] = ()
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class TransitionResult:
    """An accepted transition: the new state and the event the store must write."""

    previous_state: ApplicationState
    action: Action
    new_state: ApplicationState
    actor_role: Role
    event_type: str
    fields: Mapping[str, object]


def _application_event(name: str) -> str:
    return f"proxima.funding.application.{name}.v1"


DECISION_RECORDED_EVENT: Final = "proxima.funding.decision.recorded.v1"
REPORT_RECEIVED_EVENT: Final = "proxima.funding.report.received.v1"


def _no_convention_needed(fields: Mapping[str, object]) -> None:
    """Payment may skip the convention only at or below the threshold (decree 2001-495)."""
    granted = fields["granted_amount_cents"]
    threshold = fields["convention_threshold_cents"]
    assert isinstance(granted, int) and isinstance(threshold, int)  # checked as *_cents fields
    if convention_required(granted, threshold_cents=threshold):
        raise ConventionRequiredError(granted_amount_cents=granted, threshold_cents=threshold)


_S = ApplicationState
_A = Action
_APPLICANT: Final = frozenset({Role.APPLICANT})
_COMMITTEE: Final = frozenset({Role.COMMITTEE})
_PROGRAMME_STAFF: Final = frozenset(
    {Role.PROGRAMME_OFFICER, Role.TERRITORIAL_PARTNER, Role.REGIONAL_ADMIN}
)
_INSTRUCTION_STAFF: Final = _PROGRAMME_STAFF | {Role.INSTRUCTOR}
_REPORTERS: Final = _INSTRUCTION_STAFF | {Role.APPLICANT}

# The table is laid out by hand, one row per transition, so the formatter leaves it alone.
# fmt: off
TRANSITIONS: Final[tuple[Transition, ...]] = (
    # filing
    Transition(_S.DRAFT, _A.SUBMIT, _S.SUBMITTED, _APPLICANT, _application_event("submitted")),
    Transition(_S.DRAFT, _A.WITHDRAW, _S.WITHDRAWN, _APPLICANT, _application_event("withdrawn")),
    Transition(
        _S.SUBMITTED, _A.START_ELIGIBILITY_CHECK, _S.ELIGIBILITY_CHECK, _INSTRUCTION_STAFF,
        _application_event("eligibility_check_started"),
    ),
    # programmes without a separate eligibility step go straight to instruction
    Transition(
        _S.SUBMITTED, _A.START_INSTRUCTION, _S.IN_INSTRUCTION, _INSTRUCTION_STAFF,
        _application_event("instruction_started"), ("instructor_id",),
    ),
    Transition(
        _S.SUBMITTED, _A.WITHDRAW, _S.WITHDRAWN, _APPLICANT, _application_event("withdrawn")
    ),
    # eligibility
    Transition(
        _S.ELIGIBILITY_CHECK, _A.DECLARE_ELIGIBLE, _S.IN_INSTRUCTION, _INSTRUCTION_STAFF,
        _application_event("declared_eligible"), ("instructor_id",),
    ),
    Transition(
        _S.ELIGIBILITY_CHECK, _A.DECLARE_INELIGIBLE, _S.REJECTED, _INSTRUCTION_STAFF,
        _application_event("declared_ineligible"), ("reason",),
    ),
    Transition(
        _S.ELIGIBILITY_CHECK, _A.WITHDRAW, _S.WITHDRAWN, _APPLICANT,
        _application_event("withdrawn"),
    ),
    # instruction
    Transition(
        _S.IN_INSTRUCTION, _A.REQUEST_CORRECTION, _S.CORRECTION_REQUESTED, _INSTRUCTION_STAFF,
        _application_event("correction_requested"), ("message",),
    ),
    Transition(
        _S.IN_INSTRUCTION, _A.SEND_TO_COMMITTEE, _S.IN_COMMITTEE, _INSTRUCTION_STAFF,
        _application_event("sent_to_committee"), ("instruction_summary",),
    ),
    Transition(
        _S.IN_INSTRUCTION, _A.WITHDRAW, _S.WITHDRAWN, _APPLICANT,
        _application_event("withdrawn"),
    ),
    Transition(
        _S.IN_INSTRUCTION, _A.CLOSE_WITHOUT_FOLLOW_UP, _S.CLOSED_WITHOUT_FOLLOW_UP,
        _PROGRAMME_STAFF, _application_event("closed_without_follow_up"), ("reason",),
    ),
    Transition(
        _S.CORRECTION_REQUESTED, _A.RESUBMIT, _S.IN_INSTRUCTION, _APPLICANT,
        _application_event("resubmitted"),
    ),
    Transition(
        _S.CORRECTION_REQUESTED, _A.WITHDRAW, _S.WITHDRAWN, _APPLICANT,
        _application_event("withdrawn"),
    ),
    Transition(
        _S.CORRECTION_REQUESTED, _A.CLOSE_WITHOUT_FOLLOW_UP, _S.CLOSED_WITHOUT_FOLLOW_UP,
        _PROGRAMME_STAFF, _application_event("closed_without_follow_up"), ("reason",),
    ),
    # committee
    Transition(
        _S.IN_COMMITTEE, _A.APPROVE, _S.APPROVED, _COMMITTEE, DECISION_RECORDED_EVENT,
        ("granted_amount_cents", "deliberation_number"),
    ),
    Transition(
        _S.IN_COMMITTEE, _A.REJECT, _S.REJECTED, _COMMITTEE, DECISION_RECORDED_EVENT,
        ("reason", "deliberation_number"),
    ),
    Transition(
        _S.IN_COMMITTEE, _A.ADJOURN, _S.IN_INSTRUCTION, _COMMITTEE,
        _application_event("adjourned"), ("reason",),
    ),
    Transition(
        _S.IN_COMMITTEE, _A.RETURN_TO_INSTRUCTION, _S.IN_INSTRUCTION, _PROGRAMME_STAFF,
        _application_event("returned_to_instruction"), ("reason",),
    ),
    Transition(
        _S.IN_COMMITTEE, _A.WITHDRAW, _S.WITHDRAWN, _APPLICANT,
        _application_event("withdrawn"),
    ),
    # after approval: convention (above the threshold) then payments
    Transition(
        _S.APPROVED, _A.SIGN_CONVENTION, _S.CONVENTION_SIGNED, _PROGRAMME_STAFF,
        _application_event("convention_signed"), ("convention_reference",),
    ),
    Transition(
        _S.APPROVED, _A.START_PAYMENT, _S.IN_PAYMENT, _PROGRAMME_STAFF,
        _application_event("payment_started"),
        ("granted_amount_cents", "convention_threshold_cents"), _no_convention_needed,
    ),
    Transition(
        _S.APPROVED, _A.WITHDRAW, _S.WITHDRAWN, _APPLICANT, _application_event("withdrawn")
    ),
    Transition(
        _S.APPROVED, _A.CLOSE_WITHOUT_FOLLOW_UP, _S.CLOSED_WITHOUT_FOLLOW_UP, _PROGRAMME_STAFF,
        _application_event("closed_without_follow_up"), ("reason",),
    ),
    Transition(
        _S.CONVENTION_SIGNED, _A.START_PAYMENT, _S.IN_PAYMENT, _PROGRAMME_STAFF,
        _application_event("payment_started"),
    ),
    Transition(
        _S.CONVENTION_SIGNED, _A.WITHDRAW, _S.WITHDRAWN, _APPLICANT,
        _application_event("withdrawn"),
    ),
    Transition(
        _S.CONVENTION_SIGNED, _A.CLOSE_WITHOUT_FOLLOW_UP, _S.CLOSED_WITHOUT_FOLLOW_UP,
        _PROGRAMME_STAFF, _application_event("closed_without_follow_up"), ("reason",),
    ),
    Transition(
        _S.IN_PAYMENT, _A.RECEIVE_FINAL_REPORT, _S.FINAL_REPORT_RECEIVED, _REPORTERS,
        REPORT_RECEIVED_EVENT, ("final_report_id",),
    ),
    Transition(
        _S.IN_PAYMENT, _A.CLOSE_WITHOUT_FOLLOW_UP, _S.CLOSED_WITHOUT_FOLLOW_UP, _PROGRAMME_STAFF,
        _application_event("closed_without_follow_up"), ("reason",),
    ),
    Transition(
        _S.FINAL_REPORT_RECEIVED, _A.REJECT_FINAL_REPORT, _S.IN_PAYMENT, _INSTRUCTION_STAFF,
        _application_event("final_report_rejected"), ("reason",),
    ),
    Transition(
        _S.FINAL_REPORT_RECEIVED, _A.CLOSE, _S.CLOSED, _PROGRAMME_STAFF,
        _application_event("closed"),
    ),
)
# fmt: on

INITIAL_STATE: Final = ApplicationState.DRAFT
TERMINAL_STATES: Final = frozenset(
    {
        ApplicationState.REJECTED,
        ApplicationState.WITHDRAWN,
        ApplicationState.CLOSED_WITHOUT_FOLLOW_UP,
        ApplicationState.CLOSED,
    }
)

_BY_KEY: Final[Mapping[tuple[ApplicationState, Action], Transition]] = MappingProxyType(
    {(t.source, t.action): t for t in TRANSITIONS}
)
# A duplicated (state, action) row would make the machine non-deterministic.
assert len(_BY_KEY) == len(TRANSITIONS)

# Free-text fields must be written by a person: a blank string is as good as none.
_TEXT_FIELDS: Final = frozenset(
    {"reason", "message", "instruction_summary", "deliberation_number", "convention_reference"}
)


def find_transition(state: ApplicationState, action: Action) -> Transition | None:
    """The table row for (state, action), or None when the action is illegal there."""
    return _BY_KEY.get((state, action))


def allowed_actions(state: ApplicationState, role: Role | None = None) -> tuple[Action, ...]:
    """Actions possible from ``state`` (for ``role`` when given), in table order."""
    return tuple(
        t.action for t in TRANSITIONS if t.source == state and (role is None or role in t.roles)
    )


def _field_problem(name: str, value: object) -> str | None:
    if value is None:
        return "missing"
    if name.endswith("_cents"):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return "must be a positive integer of cents"
        return None
    if name in _TEXT_FIELDS and not isinstance(value, str):
        return "must be text"
    if isinstance(value, str) and not value.strip():
        return "must not be blank"
    return None


def _check_fields(transition: Transition, fields: Mapping[str, object]) -> None:
    problems = {
        name: problem
        for name in transition.required_fields
        if (problem := _field_problem(name, fields.get(name))) is not None
    }
    if problems:
        raise MissingFieldsError(problems)


def apply_transition(
    state: ApplicationState,
    action: Action,
    *,
    actor_role: Role,
    fields: Mapping[str, object] | None = None,
) -> TransitionResult:
    """Check ``action`` by ``actor_role`` from ``state`` against the table and return the result.

    Checks run in a fixed order so the error is predictable: illegal transition (409), then
    role (403), then required fields (422), then the row's guard.
    """
    given: Mapping[str, object] = fields or {}
    transition = find_transition(state, action)
    if transition is None:
        raise IllegalTransitionError(
            state=state, action=action, allowed_actions=allowed_actions(state)
        )
    if actor_role not in transition.roles:
        raise ForbiddenRoleError(action=action, role=actor_role, allowed_roles=transition.roles)
    _check_fields(transition, given)
    if transition.guard is not None:
        transition.guard(given)
    return TransitionResult(
        previous_state=state,
        action=action,
        new_state=transition.target,
        actor_role=actor_role,
        event_type=transition.event_type,
        fields=MappingProxyType(dict(given)),
    )
