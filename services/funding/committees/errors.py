"""What a committee session refuses: malformed sessions, agenda, attendance, votes, decisions."""

from __future__ import annotations

from services.funding.errors import FundingDomainError


class InvalidSessionError(FundingDomainError):
    """A committee session is malformed (no members, impossible quorum)."""

    status, code, title = 422, "invalid-committee-session", "Committee session is malformed"


class SessionStatusError(FundingDomainError):
    """The session is not in the status this operation needs (e.g. voting before opening)."""

    status, code, title = 409, "committee-session-status", "Committee session status forbids this"


class AgendaError(FundingDomainError):
    """The application is not on the agenda, or already is."""

    status, code, title = 409, "committee-agenda", "Agenda does not allow this"


class AgendaApplicationNotFound(FundingDomainError):
    """The agenda names an application that does not exist (or that the caller may not
    see): a 422 naming the application, so it is not read as "no such session"."""

    status, code, title = 422, "agenda-application-not-found", "No such application"


class NotACommitteeMemberError(FundingDomainError):
    """The person is not a member of this committee session."""

    status, code, title = 403, "not-a-committee-member", "Not a member of this committee"


class MemberAbsentError(FundingDomainError):
    """The member was not recorded as present at the session."""

    status, code, title = 409, "committee-member-absent", "Member not present at the session"


class ConflictOfInterestError(FundingDomainError):
    """The member declared a conflict of interest on this application and may not vote."""

    status, code, title = 403, "conflict-of-interest", "Member has a conflict of interest"


class AlreadyVotedError(FundingDomainError):
    """The member already voted on this application."""

    status, code, title = 409, "already-voted", "Member already voted on this application"


class AlreadyDecidedError(FundingDomainError):
    """The committee already recorded a decision on this application in this session."""

    status, code, title = 409, "already-decided", "Application already decided in this session"


class QuorumNotReachedError(FundingDomainError):
    """Too few members without conflict are present to deliberate."""

    status, code, title = 409, "quorum-not-reached", "Quorum not reached"

    def __init__(self, *, application_id: str, present: int, quorum: int) -> None:
        super().__init__(
            f"{present} eligible members present on {application_id}, quorum is {quorum}",
            application_id=application_id,
            present=present,
            quorum=quorum,
        )


class DecisionContradictsVoteError(FundingDomainError):
    """The recorded outcome does not match the votes cast."""

    status, code, title = 409, "decision-contradicts-vote", "Decision does not match the votes"


class DuplicateDeliberationNumberError(FundingDomainError):
    """The deliberation number is already used by another decision."""

    status, code, title = 409, "duplicate-deliberation-number", "Deliberation number already used"


class AmountAboveRequestError(FundingDomainError):
    """A committee cannot grant more than was requested."""

    status, code, title = 422, "amount-above-request", "Granted amount exceeds the request"
