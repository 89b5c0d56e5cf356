"""The application workflow: examples per rule, the happy path, the exhaustive table."""

from __future__ import annotations

import itertools
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.funding.applications.errors import (
    ConventionRequiredError,
    ForbiddenRoleError,
    IllegalTransitionError,
    MissingFieldsError,
)
from services.funding.applications.rules.workflow import (
    DECISION_RECORDED_EVENT,
    INITIAL_STATE,
    TERMINAL_STATES,
    TRANSITIONS,
    Action,
    ApplicationState,
    Role,
    TransitionResult,
    allowed_actions,
    apply_transition,
    find_transition,
)
from services.funding.errors import FundingDomainError

# Every field any transition may require, with a valid value.
ALL_FIELDS: dict[str, object] = {
    "reason": "Le projet ne relève pas du périmètre du dispositif.",
    "message": "Merci de joindre le budget prévisionnel.",
    "instructor_id": "acc-26-01",
    "instruction_summary": "Avis favorable, projet de monnaie locale en Drôme.",
    "granted_amount_cents": 1_500_000,
    "deliberation_number": "CP-2013-0412",
    "convention_reference": "CONV-2013-0042",
    "convention_threshold_cents": 2_300_000,
    "final_report_id": "doc-778",
}


def _reachable_states() -> set[ApplicationState]:
    seen = {INITIAL_STATE}
    queue = deque([INITIAL_STATE])
    while queue:
        state = queue.popleft()
        for t in TRANSITIONS:
            if t.source == state and t.target not in seen:
                seen.add(t.target)
                queue.append(t.target)
    return seen


def test_submit_by_applicant_moves_draft_to_submitted_and_names_the_event() -> None:
    result = apply_transition(ApplicationState.DRAFT, Action.SUBMIT, actor_role=Role.APPLICANT)
    assert result == TransitionResult(
        previous_state=ApplicationState.DRAFT,
        action=Action.SUBMIT,
        new_state=ApplicationState.SUBMITTED,
        actor_role=Role.APPLICANT,
        event_type="proxima.funding.application.submitted.v1",
        fields={},
    )


def test_illegal_transition_lists_the_allowed_actions() -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        apply_transition(ApplicationState.DRAFT, Action.APPROVE, actor_role=Role.COMMITTEE)
    assert caught.value.status == 409
    assert caught.value.extra["allowed_actions"] == ["submit", "withdraw"]


def test_instructor_may_not_approve() -> None:
    with pytest.raises(ForbiddenRoleError) as caught:
        apply_transition(
            ApplicationState.IN_COMMITTEE,
            Action.APPROVE,
            actor_role=Role.INSTRUCTOR,
            fields=ALL_FIELDS,
        )
    assert caught.value.status == 403
    assert caught.value.extra["allowed_roles"] == ["committee"]


def test_rejection_without_written_reason_is_refused() -> None:
    with pytest.raises(MissingFieldsError) as caught:
        apply_transition(
            ApplicationState.IN_COMMITTEE,
            Action.REJECT,
            actor_role=Role.COMMITTEE,
            fields={"deliberation_number": "CP-1", "reason": "   "},
        )
    assert caught.value.status == 422
    assert caught.value.extra["fields"] == {"reason": "must not be blank"}


def test_approval_needs_positive_integer_amount_and_deliberation_number() -> None:
    with pytest.raises(MissingFieldsError) as caught:
        apply_transition(
            ApplicationState.IN_COMMITTEE,
            Action.APPROVE,
            actor_role=Role.COMMITTEE,
            fields={"granted_amount_cents": 1500.0},
        )
    assert caught.value.extra["fields"] == {
        "deliberation_number": "missing",
        "granted_amount_cents": "must be a positive integer of cents",
    }


def test_approval_emits_decision_recorded() -> None:
    result = apply_transition(
        ApplicationState.IN_COMMITTEE, Action.APPROVE, actor_role=Role.COMMITTEE, fields=ALL_FIELDS
    )
    assert result.new_state is ApplicationState.APPROVED
    assert result.event_type == DECISION_RECORDED_EVENT


def test_role_is_checked_before_fields() -> None:
    with pytest.raises(ForbiddenRoleError):
        apply_transition(ApplicationState.IN_COMMITTEE, Action.REJECT, actor_role=Role.APPLICANT)


def test_payment_without_convention_is_allowed_at_the_threshold() -> None:
    fields = {"granted_amount_cents": 2_300_000, "convention_threshold_cents": 2_300_000}
    result = apply_transition(
        ApplicationState.APPROVED,
        Action.START_PAYMENT,
        actor_role=Role.PROGRAMME_OFFICER,
        fields=fields,
    )
    assert result.new_state is ApplicationState.IN_PAYMENT


def test_payment_without_convention_is_refused_above_the_threshold() -> None:
    fields = {"granted_amount_cents": 2_300_001, "convention_threshold_cents": 2_300_000}
    with pytest.raises(ConventionRequiredError) as caught:
        apply_transition(
            ApplicationState.APPROVED,
            Action.START_PAYMENT,
            actor_role=Role.PROGRAMME_OFFICER,
            fields=fields,
        )
    assert caught.value.status == 409


def test_correction_request_goes_back_to_the_applicant_and_returns_to_instruction() -> None:
    asked = apply_transition(
        ApplicationState.IN_INSTRUCTION,
        Action.REQUEST_CORRECTION,
        actor_role=Role.INSTRUCTOR,
        fields={"message": "Budget manquant"},
    )
    assert asked.new_state is ApplicationState.CORRECTION_REQUESTED
    assert allowed_actions(asked.new_state, Role.APPLICANT) == (Action.RESUBMIT, Action.WITHDRAW)
    back = apply_transition(asked.new_state, Action.RESUBMIT, actor_role=Role.APPLICANT)
    assert back.new_state is ApplicationState.IN_INSTRUCTION


def test_result_fields_are_a_read_only_copy() -> None:
    fields: dict[str, object] = {"message": "Budget manquant"}
    result = apply_transition(
        ApplicationState.IN_INSTRUCTION,
        Action.REQUEST_CORRECTION,
        actor_role=Role.INSTRUCTOR,
        fields=fields,
    )
    fields["message"] = "changed"
    assert result.fields["message"] == "Budget manquant"
    with pytest.raises(TypeError):
        result.fields["message"] = "x"  # type: ignore[index]


def test_happy_path_walks_from_draft_to_closed() -> None:
    steps = [
        (Action.SUBMIT, Role.APPLICANT, ApplicationState.SUBMITTED),
        (
            Action.START_ELIGIBILITY_CHECK,
            Role.PROGRAMME_OFFICER,
            ApplicationState.ELIGIBILITY_CHECK,
        ),
        (Action.DECLARE_ELIGIBLE, Role.PROGRAMME_OFFICER, ApplicationState.IN_INSTRUCTION),
        (Action.REQUEST_CORRECTION, Role.INSTRUCTOR, ApplicationState.CORRECTION_REQUESTED),
        (Action.RESUBMIT, Role.APPLICANT, ApplicationState.IN_INSTRUCTION),
        (Action.SEND_TO_COMMITTEE, Role.INSTRUCTOR, ApplicationState.IN_COMMITTEE),
        (Action.APPROVE, Role.COMMITTEE, ApplicationState.APPROVED),
        (Action.SIGN_CONVENTION, Role.PROGRAMME_OFFICER, ApplicationState.CONVENTION_SIGNED),
        (Action.START_PAYMENT, Role.PROGRAMME_OFFICER, ApplicationState.IN_PAYMENT),
        (Action.RECEIVE_FINAL_REPORT, Role.APPLICANT, ApplicationState.FINAL_REPORT_RECEIVED),
        (Action.CLOSE, Role.REGIONAL_ADMIN, ApplicationState.CLOSED),
    ]
    state = INITIAL_STATE
    events = []
    for action, role, expected in steps:
        result = apply_transition(state, action, actor_role=role, fields=ALL_FIELDS)
        assert result.new_state is expected
        events.append(result.event_type)
        state = result.new_state
    assert state in TERMINAL_STATES
    assert allowed_actions(state) == ()
    assert events[0] == "proxima.funding.application.submitted.v1"
    assert "proxima.funding.report.received.v1" in events


def test_every_transition_is_reachable_from_draft() -> None:
    reachable = _reachable_states()
    assert reachable == set(ApplicationState)
    for t in TRANSITIONS:
        assert t.source in reachable, t


def test_only_terminal_states_have_no_way_out() -> None:
    dead_ends = {s for s in ApplicationState if not allowed_actions(s)}
    assert dead_ends == TERMINAL_STATES


def test_every_event_type_is_a_versioned_funding_event() -> None:
    for t in TRANSITIONS:
        assert t.event_type.startswith("proxima.funding.")
        assert t.event_type.endswith(".v1")


@pytest.mark.parametrize(
    ("state", "action", "role"),
    list(itertools.product(ApplicationState, Action, Role)),
)
def test_every_state_action_role_follows_the_table(
    state: ApplicationState, action: Action, role: Role
) -> None:
    transition = find_transition(state, action)
    if transition is None:
        with pytest.raises(IllegalTransitionError):
            apply_transition(state, action, actor_role=role, fields=ALL_FIELDS)
    elif role not in transition.roles:
        with pytest.raises(ForbiddenRoleError):
            apply_transition(state, action, actor_role=role, fields=ALL_FIELDS)
    else:
        result = apply_transition(state, action, actor_role=role, fields=ALL_FIELDS)
        assert result.new_state is transition.target
        assert result.event_type == transition.event_type


def test_every_transition_refuses_each_missing_required_field() -> None:
    for t in TRANSITIONS:
        role = min(t.roles)
        for name in t.required_fields:
            fields = {k: v for k, v in ALL_FIELDS.items() if k != name}
            with pytest.raises(MissingFieldsError) as caught:
                apply_transition(t.source, t.action, actor_role=role, fields=fields)
            assert caught.value.extra["fields"] == {name: "missing"}


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(Action),
            st.sampled_from(Role),
            st.sampled_from([2_000_000, 2_300_000, 5_000_000]),
        ),
        max_size=40,
    )
)
def test_random_action_sequences_only_visit_states_of_the_table(
    steps: list[tuple[Action, Role, int]],
) -> None:
    targets = {INITIAL_STATE} | {t.target for t in TRANSITIONS}
    state = INITIAL_STATE
    for action, role, granted in steps:
        fields = {**ALL_FIELDS, "granted_amount_cents": granted}
        try:
            result = apply_transition(state, action, actor_role=role, fields=fields)
        except FundingDomainError:
            continue
        row = find_transition(state, action)
        assert row is not None and role in row.roles
        assert result.previous_state is state and result.new_state is row.target
        state = result.new_state
        assert state in targets
