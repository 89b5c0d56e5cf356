"""Response bodies of the official geography."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.diagnostics.http.bodies import Schema


class SourceRead(Schema):
    key: str
    label: str
    vintage: date | None
    licence: str
    synthetic: bool
    details: dict[str, Any]
    loaded_at: datetime


class SourcesRead(Schema):
    notice: str
    items: list[SourceRead]


class MembershipRead(Schema):
    relation: str
    parent_code: str
    valid_from: date
    valid_to: date | None
    source: str
    synthetic: bool


class MembershipsRead(Schema):
    territory: str
    items: list[MembershipRead]
