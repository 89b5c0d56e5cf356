"""The imports table: each import's status, progress and line-by-line report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base, created_at


class Import(Base):
    """One import request: its status, progress and line-by-line report."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'rejected')", name="status"),
        Index("ix_imports_created", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    rows_done: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = created_at()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
