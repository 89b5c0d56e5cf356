"""Async engine, session factory and the unit of work shared by every service.

Commit and rollback happen in one place only: the request dependency (`unit_of_work`) or
the consumer runner. Services and repositories only ``flush()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    """A MetaData with stable constraint names, so Alembic revisions can refer to them."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class ServiceBase(DeclarativeBase):
    """Not used directly: each service declares ``class Base(ServiceBase)`` with its own
    metadata, so that one service's tables never leak into another's migrations."""

    __abstract__ = True


def make_engine(url: str, **overrides: Any) -> AsyncEngine:
    """One pool per process; pre-ping so a restarted PostgreSQL does not fail a request."""
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
    options.update(overrides)
    return create_async_engine(url, **options)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Yield a session inside one transaction; commit if the caller succeeded."""
    async with factory() as session, session.begin():
        yield session


def plain_dsn(url: str) -> str:
    """The SQLAlchemy URL as a libpq DSN, for asyncpg connections made outside SQLAlchemy."""
    return url.replace("postgresql+asyncpg://", "postgresql://").replace(
        "postgresql+psycopg://", "postgresql://"
    )
