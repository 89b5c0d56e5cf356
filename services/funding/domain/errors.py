"""Every rule the funding domain can refuse, as one typed exception per rule.

Why one class per rule: the API renders each as RFC 9457 problem+json with a stable
machine-readable ``code`` that partner applications switch on, and each endpoint lists the
classes it can raise in its OpenAPI ``responses=``. The attributes (``status``, ``code``,
``title``, ``detail``, ``extra``) mirror ``shared.problems.Problem`` so one handler can render
both; the domain does not subclass it because ``shared.problems`` imports FastAPI and this
package must stay free of I/O and web frameworks.

Status convention: 403 when the actor may not do this at all (role, conflict of interest);
422 when the request itself is incomplete or malformed whatever the state (missing reason,
zero amount, ineligible project); 409 when a well-formed request conflicts with the current
state (illegal transition, envelope exhausted, tranche not payable). A refused operation
never changes anything: every domain function returns new values and raises before that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from shared.errors import DomainError


class FundingDomainError(DomainError):
    """Base of every funding rule violation; carries the problem+json fields."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "funding-rule-violated"
    title: ClassVar[str] = "Funding rule violated"


# --- workflow -------------------------------------------------------------------------------


class IllegalTransitionError(FundingDomainError):
    """The action does not exist from the application's current state."""

    status, code, title = 409, "illegal-transition", "Action not allowed in this state"

    def __init__(self, *, state: str, action: str, allowed_actions: Iterable[str]) -> None:
        allowed = sorted(str(a) for a in allowed_actions)
        super().__init__(
            f"action '{action}' is not allowed from state '{state}'",
            state=str(state),
            action=str(action),
            allowed_actions=allowed,
        )


class ForbiddenRoleError(FundingDomainError):
    """The actor's role may not perform this action."""

    status, code, title = 403, "forbidden-role", "Role not allowed to perform this action"

    def __init__(self, *, action: str, role: str, allowed_roles: Iterable[str]) -> None:
        super().__init__(
            f"role '{role}' may not perform '{action}'",
            action=str(action),
            role=str(role),
            allowed_roles=sorted(str(r) for r in allowed_roles),
        )


class MissingFieldsError(FundingDomainError):
    """Required fields are absent, blank or of the wrong kind (e.g. a refusal without reason)."""

    status, code, title = 422, "missing-fields", "Required fields missing or invalid"

    def __init__(self, problems: Mapping[str, str]) -> None:
        listed = ", ".join(f"{name} ({why})" for name, why in sorted(problems.items()))
        super().__init__(f"fields required: {listed}", fields=dict(sorted(problems.items())))


class InvalidAmountError(FundingDomainError):
    """An amount is not a positive integer number of euro cents."""

    status, code, title = 422, "invalid-amount", "Amount must be a positive integer of cents"

    def __init__(self, *, field: str, value: object) -> None:
        super().__init__(
            f"{field} must be a positive integer number of cents, got {value!r}",
            field=field,
            value=repr(value),
        )


# --- budget ---------------------------------------------------------------------------------


class InvalidEnvelopeError(FundingDomainError):
    """An envelope's figures break its own invariants (negative, paid above committed...)."""

    status, code, title = 422, "invalid-envelope", "Envelope figures are inconsistent"


class EnvelopeExceededError(FundingDomainError):
    """A commitment would exceed the envelope's commitment credits (AP)."""

    status, code, title = 409, "envelope-exceeded", "Commitment exceeds the remaining envelope"

    def __init__(self, *, requested_cents: int, remaining_cents: int) -> None:
        super().__init__(
            f"cannot commit {requested_cents} cents: {remaining_cents} cents remain",
            requested_cents=requested_cents,
            remaining_cents=remaining_cents,
        )


class PaymentCreditsExceededError(FundingDomainError):
    """A payment would exceed the envelope's payment credits (CP)."""

    status, code, title = 409, "payment-credits-exceeded", "Payment exceeds the payment credits"

    def __init__(self, *, requested_cents: int, remaining_cents: int) -> None:
        super().__init__(
            f"cannot pay {requested_cents} cents: {remaining_cents} cents of CP remain",
            requested_cents=requested_cents,
            remaining_cents=remaining_cents,
        )


class PaymentExceedsCommitmentError(FundingDomainError):
    """A payment would exceed what remains unpaid on its commitment."""

    status, code, title = 409, "payment-exceeds-commitment", "Payment exceeds the commitment"

    def __init__(self, *, requested_cents: int, remaining_cents: int) -> None:
        super().__init__(
            f"cannot pay {requested_cents} cents: {remaining_cents} cents remain committed",
            requested_cents=requested_cents,
            remaining_cents=remaining_cents,
        )


class DecommitExceedsUnpaidError(FundingDomainError):
    """A release would take back money that is already paid or was never committed."""

    status, code, title = 409, "decommit-exceeds-unpaid", "Release exceeds the unpaid commitment"

    def __init__(self, *, requested_cents: int, releasable_cents: int) -> None:
        super().__init__(
            f"cannot release {requested_cents} cents: {releasable_cents} cents are releasable",
            requested_cents=requested_cents,
            releasable_cents=releasable_cents,
        )


class EnvelopeBelowUsageError(FundingDomainError):
    """A resize would put the envelope below what is already committed or paid."""

    status, code, title = 409, "envelope-below-usage", "Envelope cannot shrink below its usage"


# --- committee ------------------------------------------------------------------------------


class InvalidSessionError(FundingDomainError):
    """A committee session is malformed (no members, impossible quorum)."""

    status, code, title = 422, "invalid-committee-session", "Committee session is malformed"


class SessionStatusError(FundingDomainError):
    """The session is not in the status this operation needs (e.g. voting before opening)."""

    status, code, title = 409, "committee-session-status", "Committee session status forbids this"


class AgendaError(FundingDomainError):
    """The application is not on the agenda, or already is."""

    status, code, title = 409, "committee-agenda", "Agenda does not allow this"


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


# --- conventions and tranches ---------------------------------------------------------------


class ConventionRequiredError(FundingDomainError):
    """Payment cannot start before a convention is signed for a grant above the threshold."""

    status, code, title = 409, "convention-required", "A signed convention is required"

    def __init__(self, *, granted_amount_cents: int, threshold_cents: int) -> None:
        super().__init__(
            f"a grant of {granted_amount_cents} cents exceeds {threshold_cents} cents "
            "and needs a signed convention",
            granted_amount_cents=granted_amount_cents,
            threshold_cents=threshold_cents,
        )


class InvalidScheduleError(FundingDomainError):
    """The payment schedule parameters or figures are inconsistent."""

    status, code, title = 422, "invalid-schedule", "Payment schedule is inconsistent"


class UnknownTrancheError(FundingDomainError):
    """No tranche with this number exists in the schedule."""

    status, code, title = 404, "unknown-tranche", "No such tranche"


class TrancheNotPayableError(FundingDomainError):
    """The tranche's payability conditions are not met."""

    status, code, title = 409, "tranche-not-payable", "Tranche is not payable yet"

    def __init__(self, *, number: int, reasons: Iterable[str]) -> None:
        listed = list(reasons)
        super().__init__(
            f"tranche {number} is not payable: " + "; ".join(listed),
            tranche_number=number,
            reasons=listed,
        )


class TrancheStatusError(FundingDomainError):
    """The tranche's status does not allow this (e.g. marking paid a tranche never ordered)."""

    status, code, title = 409, "tranche-status", "Tranche status forbids this"


class InvalidPaymentModeError(FundingDomainError):
    """The payment mode and currency do not fit together."""

    status, code, title = 422, "invalid-payment-mode", "Payment mode and currency do not match"


# --- eligibility and routing ----------------------------------------------------------------


class InvalidTerritoryCodeError(FundingDomainError):
    """A territory code is not an INSEE commune or département code."""

    status, code, title = 422, "invalid-territory-code", "Not an INSEE commune or département code"


class InvalidEligibilityRulesError(FundingDomainError):
    """A programme's eligibility rules are malformed (empty lists, inverted dates...)."""

    status, code, title = 422, "invalid-eligibility-rules", "Eligibility rules are malformed"


class NotEligibleError(FundingDomainError):
    """The application fails one or more of the programme's eligibility rules."""

    status, code, title = 422, "not-eligible", "Application is not eligible"


class NoAccompanistError(FundingDomainError):
    """No active local accompanist with free capacity covers the application's territory."""

    status, code, title = 409, "no-accompanist", "No local accompanist covers this territory"
