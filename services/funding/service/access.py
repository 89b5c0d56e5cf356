"""Who may touch which application, envelope or programme (tenancy, on top of scopes).

Scopes say what kind of thing a client may do; tenant bindings say where. An applicant
sees only its own applications; staff see the applications of their programmes in their
territories; a territorial partner additionally needs the envelope delegated to it.
"""

from __future__ import annotations

from services.funding.domain.errors import FundingDomainError
from services.funding.domain.workflow import Role
from services.funding.store.models import Application, Envelope, Programme
from shared.auth import Principal
from shared.problems import Forbidden


class UnknownRoleError(FundingDomainError):
    """The token's role is not one of the funding workflow's roles."""

    status, code, title = 403, "unknown-role", "Role unknown to the funding workflow"


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


def may_see_territory(principal: Principal, application: Application) -> bool:
    return principal.may_access("territories", application.territory) or principal.may_access(
        "territories", application.commune_insee_code
    )


def may_use_envelope(principal: Principal, envelope: Envelope, programme: Programme) -> bool:
    """Bound to the envelope itself, or to its programme (territorial partners need the former)."""
    if principal.may_access("envelopes", envelope.code):
        return True
    if principal.role == Role.TERRITORIAL_PARTNER and not principal.is_admin:
        return False
    return principal.may_access("programmes", programme.code)


def ensure_may_write_on_file(principal: Principal) -> None:
    """Applicants write on their file with ``funding:apply``, staff with ``funding:instruct``."""
    ensure_scope(principal, "funding:apply" if is_applicant(principal) else "funding:instruct")


def ensure_envelope(principal: Principal, envelope: Envelope, programme: Programme) -> None:
    if not may_use_envelope(principal, envelope, programme):
        raise Forbidden(
            f"client {principal.client_id!r} is not bound to envelope {envelope.code!r}"
        )


def ensure_application(
    principal: Principal, application: Application, envelope: Envelope, programme: Programme
) -> None:
    """403 unless the principal may see this application at all."""
    if is_applicant(principal):
        if application.applicant_client_id != principal.client_id:
            raise Forbidden("applicants only see their own applications")
        return
    ensure_envelope(principal, envelope, programme)
    if not may_see_territory(principal, application):
        raise Forbidden(
            f"client {principal.client_id!r} is not bound to territory {application.territory!r}"
        )


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
