"""The declarative base of the funding tables (their own metadata, their own migration
history) and the column shapes they share.

The money invariants live in CHECK constraints so that no code path, present or future, can
over-commit an envelope or pay beyond a commitment; the rules of each concept refuse first
with a clear problem, the database refuses anyway.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, make_metadata
from shared.ids import uuid7


class Base(ServiceBase):
    __abstract__ = True
    metadata = make_metadata()


def uuid_pk() -> Mapped[uuid.UUID]:
    """A UUIDv7 primary key."""
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)


def now_on_insert() -> Mapped[datetime]:
    """A ``timestamptz`` set by the database on insert."""
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def required_fk(target: str) -> Mapped[uuid.UUID]:
    """A non-null, indexed UUID foreign key to ``target`` ("table.column")."""
    return mapped_column(UUID(as_uuid=True), ForeignKey(target), nullable=False, index=True)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a CHECK that ``column`` takes one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
