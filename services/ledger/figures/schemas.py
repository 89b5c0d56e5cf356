"""Response body of a currency's dashboard figures."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class CurrencyFigures(BaseModel):
    currency: str
    window_days: int
    window_start: datetime
    window_end: datetime
    circulation: int
    circulation_at_start: int
    average_circulation: float
    transfer_count: int
    transfer_volume: int
    velocity: float | None
    issued: int
    reconverted: int
    leakage: float | None
    leakage_share_of_volume: float | None
