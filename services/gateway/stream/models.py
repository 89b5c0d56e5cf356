"""Tables of the live stream: the events as the dashboard sees them, and the dashboard's
running state folded from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.gateway.models import Base


class StreamEvent(Base):
    """One event as the live dashboard sees it; ``position`` is the SSE event id."""

    __tablename__ = "stream_events"

    position: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200), nullable=False)
    event_key: Mapped[str] = mapped_column(String(400), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    territory: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str | None] = mapped_column(String(100))
    programme: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)

    __table_args__ = (
        Index("ix_stream_events_recorded_at", "recorded_at"),
        Index("ix_stream_events_type_position", "event_type", "position"),
    )


class DashboardState(Base):
    """The dashboard's running totals and latest values, folded from the stream events in
    the same transaction that records them, so ``/api/dashboard/summary`` reads a few
    hundred rows instead of scanning the stream, and survives the stream's retention.

    kinds: ``aggregate`` (latest value of a diagnostics metric), ``ledger`` (volume and count
    of transactions per territory and currency), and per programme, currency and territory
    ``committed`` (budget committed minus released), ``ordered`` and ``paid`` (tranches).
    """

    __tablename__ = "dashboard_state"

    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    territory: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str | None] = mapped_column(String(100))
    programme: Mapped[str | None] = mapped_column(String(100))
    metric: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(50))
    period: Mapped[str | None] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
