"""Bodies of period closings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from services.ledger.http.schemas import Out, Schema
from shared.strict_types import IsoDate


class ClosingCreate(Schema):
    through: IsoDate = Field(
        description="Last effective date of the closed period (before today, UTC); no "
        "transaction of the currency may be dated on or before it afterwards"
    )


class ClosingRead(Out):
    currency: str
    through: date
    closed_by: str
    closed_at: datetime


class ClosingPage(Out):
    items: list[ClosingRead]
    next_cursor: str | None
