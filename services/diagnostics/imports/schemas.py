"""Request parameters and response bodies of imports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.diagnostics.http.bodies import Schema
from services.diagnostics.imports.rules.plans import ImportKind

__all__ = ["ImportKind", "ImportPage", "ImportRead"]


class ImportRead(Schema):
    id: uuid.UUID
    kind: str
    status: str
    client_id: str
    rows_total: int
    rows_done: int
    report: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


class ImportPage(Schema):
    items: list[ImportRead]
    next_cursor: str | None
