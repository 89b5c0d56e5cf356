"""Request and response bodies of demurrage runs."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from services.ledger.http.schemas import Out, Schema
from shared.strict_types import IsoDate


class DemurrageRunCreate(Schema):
    period_start: IsoDate = Field(description="First day of a closed demurrage period")
    fund_account_id: UUID


class DemurrageRunRead(Out):
    run_key: str
    currency: str
    period_start: date
    period_end: date
    fund_account_id: UUID
    status: str
    accounts_total: int
    accounts_done: int
    charged_total: int
