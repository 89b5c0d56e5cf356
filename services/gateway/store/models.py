"""SQLAlchemy models of the gateway service: its own metadata, its own migration history.

Tenant bindings are PostgreSQL arrays rather than join tables: they are read whole at
token time and never queried by value, and ``"*"`` means "all of that kind".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, make_metadata


class Base(ServiceBase):
    __abstract__ = True
    metadata = make_metadata()


def _text_array() -> Any:
    return mapped_column(ARRAY(String(100)), nullable=False, server_default="{}")


class Client(Base):
    """A registered application (partner app, currency operator, dashboard, admin…)."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(40), nullable=False)
    scopes: Mapped[list[str]] = _text_array()
    currencies: Mapped[list[str]] = _text_array()
    programmes: Mapped[list[str]] = _text_array()
    envelopes: Mapped[list[str]] = _text_array()
    territories: Mapped[list[str]] = _text_array()
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    # Incremented when scopes, tenants or role change; tokens carry it (``cgen``), and
    # tokens carrying an older one are refused.
    generation: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    authority_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClientSecret(Base):
    """An argon2id hash of one secret; a rotated-out secret keeps working until
    ``expires_at`` (the grace period), so a partner can redeploy without downtime."""

    __tablename__ = "client_secrets"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), nullable=False, index=True
    )
    secret_hash: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
