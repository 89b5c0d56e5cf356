"""What the funding tenancy refuses beyond the HTTP layer's 403."""

from __future__ import annotations

from services.funding.errors import FundingDomainError


class UnknownRoleError(FundingDomainError):
    """The token's role is not one of the funding workflow's roles."""

    status, code, title = 403, "unknown-role", "Role unknown to the funding workflow"
