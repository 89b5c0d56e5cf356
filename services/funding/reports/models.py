"""The table of progress reports of funded projects."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.funding.db.base import Base, now_on_insert, one_of, required_fk, uuid_pk


class ProgressReport(Base):
    """A progress report of a funded project, with its indicators and evaluation; accepting
    the n-th intermediate report releases the tranche that waits for it."""

    __tablename__ = "progress_reports"

    id: Mapped[uuid.UUID] = uuid_pk()
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    submitted_by: Mapped[str] = mapped_column(String(200), nullable=False)
    jobs_created: Mapped[int] = mapped_column(Integer, nullable=False)
    members: Mapped[int] = mapped_column(Integer, nullable=False)
    turnover_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    economic_evaluation: Mapped[str] = mapped_column(Text, nullable=False, default="")
    social_evaluation: Mapped[str] = mapped_column(Text, nullable=False, default="")
    environmental_evaluation: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="submitted")
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        UniqueConstraint("application_id", "kind", "number", name="uq_report_number"),
        CheckConstraint(one_of("kind", ("intermediate", "final")), name="kind_known"),
        CheckConstraint(
            one_of("status", ("submitted", "accepted", "rejected")), name="status_known"
        ),
        CheckConstraint(
            "number >= 1 AND jobs_created >= 0 AND members >= 0 AND turnover_cents >= 0",
            name="figures_non_negative",
        ),
        CheckConstraint(
            "(status = 'submitted') = (reviewed_by IS NULL)", name="reviewed_when_decided"
        ),
    )
