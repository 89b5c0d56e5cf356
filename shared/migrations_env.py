"""The body of every service's Alembic ``env.py``: online migrations over asyncpg.

Each ``services/<name>/migrations/env.py`` is two lines that pass its own metadata here, so
the one history per service rule holds while the mechanics exist once.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.settings import ServiceSettings


def _do_run(connection: Connection, metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_do_run, metadata)
    await engine.dispose()


def run_migrations(metadata: MetaData) -> None:
    if context.is_offline_mode():
        raise SystemExit("offline migrations are not supported: run against a database")
    url = context.config.get_main_option("sqlalchemy.url") or ServiceSettings().database_url
    asyncio.run(_run_async(url, metadata))
