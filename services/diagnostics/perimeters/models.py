"""The tables of contract perimeters: each version and the communes it covers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base, created_at
from services.diagnostics.perimeters.rules import PERIMETER_KINDS


class Perimeter(Base):
    """One version of a contract perimeter (CDDRA, CFAC, PNR, politique de la ville):
    the set of communes it covers between ``valid_from`` and ``valid_to`` (exclusive)."""

    __tablename__ = "perimeters"
    __table_args__ = (
        CheckConstraint(f"kind IN {PERIMETER_KINDS!r}", name="kind"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        UniqueConstraint("kind", "code", "valid_from", name="uq_perimeters_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[date | None] = mapped_column(Date)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = created_at()


class PerimeterCommune(Base):
    """A commune belonging to one perimeter version."""

    __tablename__ = "perimeter_communes"

    perimeter_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("perimeters.id", ondelete="CASCADE"), primary_key=True
    )
    commune_code: Mapped[str] = mapped_column(
        String(9), ForeignKey("territories.code"), primary_key=True
    )
