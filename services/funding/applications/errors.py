"""What the application workflow refuses: illegal transitions, roles, fields, conventions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.funding.errors import FundingDomainError


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
