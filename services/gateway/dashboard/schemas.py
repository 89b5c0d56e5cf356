"""Response bodies of the regional dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class DashboardSummary(BaseModel):
    as_of: int
    generated_at: datetime
    territories: list[dict[str, Any]]
    engine_shares: list[dict[str, Any]]
    programmes: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    instruments: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Per territory: leverage and repayment rate of loans and guarantees",
    )
