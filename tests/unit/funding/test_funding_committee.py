"""Committee sessions: agenda, conflicts of interest, quorum, votes and decisions."""

from __future__ import annotations

import pytest

from services.funding.applications.errors import MissingFieldsError
from services.funding.applications.rules.workflow import (
    Action,
    ApplicationState,
    Role,
    apply_transition,
)
from services.funding.committees.errors import (
    AgendaError,
    AlreadyDecidedError,
    AlreadyVotedError,
    ConflictOfInterestError,
    DecisionContradictsVoteError,
    DuplicateDeliberationNumberError,
    InvalidSessionError,
    MemberAbsentError,
    NotACommitteeMemberError,
    QuorumNotReachedError,
    SessionStatusError,
)
from services.funding.committees.rules import (
    CommitteeSession,
    DecisionOutcome,
    SessionStatus,
    VoteChoice,
    add_to_agenda,
    cast_vote,
    close_session,
    decide,
    declare_conflict,
    majority_quorum,
    open_session,
    tally,
)

MEMBERS = frozenset({"alice", "bruno", "chloe", "driss", "emma"})
APP = "app-1"


def _open(*, attendees: frozenset[str] = MEMBERS, quorum: int = 3) -> CommitteeSession:
    session = CommitteeSession(session_id="cp-2013-04", members=MEMBERS, quorum=quorum)
    session = add_to_agenda(session, APP)
    return open_session(session, attendees=attendees)


def _votes(session: CommitteeSession, **choices: VoteChoice) -> CommitteeSession:
    for member, choice in choices.items():
        session = cast_vote(session, application_id=APP, member_id=member, choice=choice)
    return session


def test_majority_quorum_is_more_than_half() -> None:
    assert [majority_quorum(n) for n in (1, 2, 5, 6)] == [1, 2, 3, 4]


@pytest.mark.parametrize("quorum", [0, 6])
def test_quorum_must_fit_the_membership(quorum: int) -> None:
    with pytest.raises(InvalidSessionError):
        CommitteeSession(session_id="s", members=MEMBERS, quorum=quorum)


def test_approval_by_majority_records_amount_and_deliberation() -> None:
    session = _votes(_open(), alice=VoteChoice.FOR, bruno=VoteChoice.FOR, chloe=VoteChoice.AGAINST)
    session, decision = decide(
        session,
        application_id=APP,
        outcome=DecisionOutcome.APPROVED,
        deliberation_number="CP-2013-0412",
        amount_cents=1_500_000,
    )
    assert decision.tally.votes_for == 2 and decision.tally.quorum_reached
    assert session.decision_for(APP) == decision
    assert decision.workflow_action is Action.APPROVE


def test_decision_feeds_the_workflow_transition() -> None:
    session = _votes(_open(), alice=VoteChoice.AGAINST, bruno=VoteChoice.AGAINST)
    _, decision = decide(
        session,
        application_id=APP,
        outcome=DecisionOutcome.REJECTED,
        deliberation_number="CP-2013-0413",
        reason="Modèle économique trop fragile",
    )
    result = apply_transition(
        ApplicationState.IN_COMMITTEE,
        decision.workflow_action,
        actor_role=Role.COMMITTEE,
        fields=decision.transition_fields(),
    )
    assert result.new_state is ApplicationState.REJECTED


def test_conflicted_member_cannot_vote() -> None:
    session = declare_conflict(_open(), application_id=APP, member_id="alice")
    with pytest.raises(ConflictOfInterestError) as caught:
        cast_vote(session, application_id=APP, member_id="alice", choice=VoteChoice.FOR)
    assert caught.value.status == 403


def test_late_conflict_declaration_voids_the_members_vote() -> None:
    session = _votes(_open(), alice=VoteChoice.FOR, bruno=VoteChoice.AGAINST)
    session = declare_conflict(session, application_id=APP, member_id="alice")
    assert tally(session, APP).votes_for == 0


def test_conflicted_members_do_not_count_towards_quorum() -> None:
    session = _open(attendees=frozenset({"alice", "bruno", "chloe"}))
    session = declare_conflict(session, application_id=APP, member_id="chloe")
    session = _votes(session, alice=VoteChoice.FOR, bruno=VoteChoice.FOR)
    with pytest.raises(QuorumNotReachedError) as caught:
        decide(
            session,
            application_id=APP,
            outcome=DecisionOutcome.APPROVED,
            deliberation_number="D1",
            amount_cents=100,
        )
    assert caught.value.extra == {"application_id": APP, "present": 2, "quorum": 3}


def test_adjournment_needs_no_quorum_but_a_reason() -> None:
    session = _open(attendees=frozenset({"alice"}))
    with pytest.raises(MissingFieldsError):
        decide(session, application_id=APP, outcome=DecisionOutcome.ADJOURNED)
    _, decision = decide(
        session, application_id=APP, outcome=DecisionOutcome.ADJOURNED, reason="quorum non atteint"
    )
    assert decision.workflow_action is Action.ADJOURN


def test_absent_member_and_outsider_cannot_vote() -> None:
    session = _open(attendees=frozenset({"alice", "bruno", "chloe"}))
    with pytest.raises(MemberAbsentError):
        cast_vote(session, application_id=APP, member_id="emma", choice=VoteChoice.FOR)
    with pytest.raises(NotACommitteeMemberError):
        cast_vote(session, application_id=APP, member_id="zoe", choice=VoteChoice.FOR)


def test_member_votes_once() -> None:
    session = _votes(_open(), alice=VoteChoice.FOR)
    with pytest.raises(AlreadyVotedError):
        cast_vote(session, application_id=APP, member_id="alice", choice=VoteChoice.AGAINST)


def test_votes_need_an_open_session_and_an_agenda_item() -> None:
    planned = add_to_agenda(CommitteeSession(session_id="s", members=MEMBERS, quorum=3), APP)
    with pytest.raises(SessionStatusError):
        cast_vote(planned, application_id=APP, member_id="alice", choice=VoteChoice.FOR)
    with pytest.raises(AgendaError):
        cast_vote(_open(), application_id="other", member_id="alice", choice=VoteChoice.FOR)


def test_an_application_is_on_the_agenda_once() -> None:
    with pytest.raises(AgendaError):
        add_to_agenda(_open(), APP)


def test_decision_must_follow_the_votes() -> None:
    tied = _votes(_open(), alice=VoteChoice.FOR, bruno=VoteChoice.AGAINST, chloe=VoteChoice.ABSTAIN)
    with pytest.raises(DecisionContradictsVoteError):
        decide(
            tied,
            application_id=APP,
            outcome=DecisionOutcome.APPROVED,
            deliberation_number="D1",
            amount_cents=100,
        )
    with pytest.raises(DecisionContradictsVoteError):
        decide(
            _open(),
            application_id=APP,
            outcome=DecisionOutcome.REJECTED,
            deliberation_number="D1",
            reason="pas de vote",
        )


@pytest.mark.parametrize(
    ("outcome", "fields", "problem"),
    [
        (DecisionOutcome.APPROVED, {"deliberation_number": "D1"}, "amount_cents"),
        (DecisionOutcome.APPROVED, {"amount_cents": 100}, "deliberation_number"),
        (DecisionOutcome.REJECTED, {"deliberation_number": "D1"}, "reason"),
        (
            DecisionOutcome.REJECTED,
            {"deliberation_number": "D1", "reason": "x", "amount_cents": 5},
            "amount_cents",
        ),
    ],
)
def test_decision_fields_are_required(
    outcome: DecisionOutcome, fields: dict[str, object], problem: str
) -> None:
    session = _votes(_open(), alice=VoteChoice.FOR)
    with pytest.raises(MissingFieldsError) as caught:
        decide(session, application_id=APP, outcome=outcome, **fields)  # type: ignore[arg-type]
    assert problem in caught.value.extra["fields"]


def test_no_second_decision_and_no_vote_after_it() -> None:
    session = _votes(_open(), alice=VoteChoice.FOR)
    session, _ = decide(
        session,
        application_id=APP,
        outcome=DecisionOutcome.APPROVED,
        deliberation_number="D1",
        amount_cents=100,
    )
    with pytest.raises(AlreadyDecidedError):
        decide(session, application_id=APP, outcome=DecisionOutcome.ADJOURNED, reason="x")
    with pytest.raises(AlreadyDecidedError):
        cast_vote(session, application_id=APP, member_id="bruno", choice=VoteChoice.FOR)


def test_deliberation_numbers_are_unique_in_a_session() -> None:
    session = add_to_agenda(_open(), "app-2")
    session = _votes(session, alice=VoteChoice.FOR)
    session = cast_vote(session, application_id="app-2", member_id="alice", choice=VoteChoice.FOR)
    session, _ = decide(
        session,
        application_id=APP,
        outcome=DecisionOutcome.APPROVED,
        deliberation_number="D1",
        amount_cents=100,
    )
    with pytest.raises(DuplicateDeliberationNumberError):
        decide(
            session,
            application_id="app-2",
            outcome=DecisionOutcome.APPROVED,
            deliberation_number="D1",
            amount_cents=100,
        )


def test_closed_session_is_frozen() -> None:
    session = close_session(_open())
    assert session.status is SessionStatus.CLOSED
    with pytest.raises(SessionStatusError):
        cast_vote(session, application_id=APP, member_id="alice", choice=VoteChoice.FOR)
    with pytest.raises(SessionStatusError):
        declare_conflict(session, application_id=APP, member_id="alice")
