"""Tables of the client registry: registered clients and their hashed secrets.

Tenant bindings are PostgreSQL arrays rather than join tables: they are read whole at
token time and never queried by value, and ``"*"`` means "all of that kind".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.gateway.models import Base


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
