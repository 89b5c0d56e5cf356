"""Tenancy as SQL: the conditions a list's query takes so it returns only what the caller
may read. Each mirrors the check of one row in `checks`, for rows joined in the query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, true

from services.funding.applications.models import Application
from services.funding.programmes.models import Envelope, Programme
from services.funding.tenancy.roles import is_territorial_partner
from shared.auth import Principal, TenantKind


def visible_to(principal: Principal, kind: TenantKind, *columns: Any) -> ColumnElement[bool]:
    """One of ``columns`` holds a ``kind`` value the principal is bound to (always true when
    it is bound to all of them)."""
    visible = principal.visible(kind)
    if visible is None:
        return true()
    return or_(*(column.in_(visible) for column in columns))


def usable_envelope(principal: Principal) -> ColumnElement[bool]:
    """`checks.may_use_envelope` over the query's ``Envelope`` and ``Programme``."""
    envelope = visible_to(principal, "envelopes", Envelope.code)
    if is_territorial_partner(principal):
        return envelope
    return or_(envelope, visible_to(principal, "programmes", Programme.code))


def visible_territory(principal: Principal) -> ColumnElement[bool]:
    """`checks.may_see_territory` over the query's ``Application``."""
    return visible_to(
        principal, "territories", Application.territory, Application.commune_insee_code
    )
