"""The caller's part in the funding workflow: its role, and what that role may write."""

from __future__ import annotations

from services.funding.applications.rules.workflow import Role
from services.funding.tenancy.errors import UnknownRoleError
from shared.auth import Principal
from shared.problems import Forbidden

# Gateway roles that play a workflow role under another name.
ROLE_ALIASES = {"territorial_accompanist": Role.INSTRUCTOR, "admin": Role.REGIONAL_ADMIN}


def role_of(principal: Principal) -> Role:
    """The principal's workflow role, or 403."""
    if principal.role in ROLE_ALIASES:
        return ROLE_ALIASES[principal.role]
    try:
        return Role(principal.role)
    except ValueError:
        raise UnknownRoleError(
            f"role {principal.role!r} has no part in the funding workflow",
            allowed_roles=sorted(r.value for r in Role),
        ) from None


def ensure_scope(principal: Principal, scope: str) -> None:
    """403 unless the principal holds ``scope`` (or is an administrator)."""
    if scope not in principal.scopes and not principal.is_admin:
        raise Forbidden(f"scope {scope!r} required")


def is_applicant(principal: Principal) -> bool:
    return principal.role == Role.APPLICANT and not principal.is_admin


def is_territorial_partner(principal: Principal) -> bool:
    """A partner holding delegated envelopes: bound to envelopes, never to whole programmes."""
    return principal.role == Role.TERRITORIAL_PARTNER and not principal.is_admin


def ensure_may_write_on_file(principal: Principal) -> None:
    """Applicants write on their file with ``funding:apply``, staff with ``funding:instruct``."""
    ensure_scope(principal, "funding:apply" if is_applicant(principal) else "funding:instruct")


def is_staff(principal: Principal) -> bool:
    """Instruction staff: may read confidential opinions and private annotations."""
    return (
        principal.is_admin
        or principal.role in ROLE_ALIASES
        or principal.role
        in {
            Role.INSTRUCTOR,
            Role.PROGRAMME_OFFICER,
            Role.REGIONAL_ADMIN,
            Role.TERRITORIAL_PARTNER,
            Role.COMMITTEE,
        }
    )
