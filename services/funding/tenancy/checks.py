"""Tenancy checks on one fetched row: a row outside the caller's tenancy is a 403."""

from __future__ import annotations

from services.funding.applications.models import Application
from services.funding.programmes.models import Envelope, Programme
from services.funding.tenancy.roles import is_applicant, is_territorial_partner
from shared.auth import Principal
from shared.problems import Forbidden


def may_see_territory(principal: Principal, application: Application) -> bool:
    return principal.may_access("territories", application.territory) or principal.may_access(
        "territories", application.commune_insee_code
    )


def may_use_envelope(principal: Principal, envelope: Envelope, programme: Programme) -> bool:
    """Bound to the envelope itself, or to its programme (territorial partners need the former)."""
    if principal.may_access("envelopes", envelope.code):
        return True
    if is_territorial_partner(principal):
        return False
    return principal.may_access("programmes", programme.code)


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
