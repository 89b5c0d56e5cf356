"""The declarative base of the diagnostics tables: one metadata, one Alembic history.

Each concept declares its tables in its own ``models.py`` on :class:`Base`; :func:`metadata`
loads them all, for Alembic and for the test that compares the models with the migrations.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, make_metadata

CONCEPTS_WITH_TABLES = (
    "territories",
    "geography",
    "perimeters",
    "indicators",
    "imports",
    "aggregates",
    "grants",
    "opendata",
    "incomes",
)


class Base(ServiceBase):
    __abstract__ = True
    metadata = make_metadata()


def created_at() -> Mapped[datetime]:
    """A ``timestamptz`` column set by the database when the row is inserted."""
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


ROWS_PER_STATEMENT = 1000
"""Rows per multi-row INSERT: a statement's bind parameters are bounded (32767 in asyncpg)."""


def in_chunks(
    rows: Sequence[dict[str, Any]], size: int = ROWS_PER_STATEMENT
) -> Iterator[Sequence[dict[str, Any]]]:
    """``rows`` in consecutive slices of at most ``size``, for multi-row INSERTs."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def metadata() -> MetaData:
    """Every table of the service (importing each concept's models registers its tables)."""
    for concept in CONCEPTS_WITH_TABLES:
        importlib.import_module(f"services.diagnostics.{concept}.models")
    return Base.metadata
