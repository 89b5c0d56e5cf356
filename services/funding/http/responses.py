"""The problems every funding endpoint documents in its OpenAPI ``responses=``."""

from __future__ import annotations

from typing import Any

from services.funding.errors import FundingDomainError
from shared.problems import Conflict, Forbidden, NotFound, Unauthorized, problem_responses


class _RuleViolation(FundingDomainError):
    """Documents the 422 of any funding rule (each concept's errors carry their own code)."""

    status, title = 422, "Request breaks a funding rule"


class _StateConflict(FundingDomainError):
    """Documents the 409 of any funding state conflict."""

    status, title = 409, "Conflicts with the current state"


def errors() -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a funding endpoint: authentication, tenancy, absence, rules."""
    return problem_responses(
        Unauthorized, Forbidden, NotFound, Conflict, _StateConflict, _RuleViolation
    )
