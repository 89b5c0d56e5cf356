"""The currencies whose operator opted in to open data, with who decided and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base, created_at


class OpenDataPublication(Base):
    """A currency published as open data: present only while its operator opts in."""

    __tablename__ = "opendata_publications"

    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    licence: Mapped[str] = mapped_column(Text, nullable=False)
    opted_in_by: Mapped[str] = mapped_column(Text, nullable=False)
    opted_in_at: Mapped[datetime] = created_at()
