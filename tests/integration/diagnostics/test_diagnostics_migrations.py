"""The Alembic history matches the models, and downgrades without touching the event tables."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from services.diagnostics.database import metadata
from shared.events.tables import EVENT_TABLES
from shared.migrate import alembic_config

EVENT_TABLE_NAMES = {table.name for table in EVENT_TABLES}


def _sync(url: str) -> str:
    return url.replace("+asyncpg", "+psycopg")


def _check(url: str) -> None:
    engine = create_engine(_sync(url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata())
            # the event tables belong to shared.events, not to this metadata
            assert [d for d in diff if not _is_event_table(d)] == []
        config = alembic_config("diagnostics", url)
        command.downgrade(config, "diagnostics_0001")
        assert set(inspect(engine).get_table_names()) == EVENT_TABLE_NAMES | {"alembic_version"}
        command.upgrade(config, "head")
        assert "currency_aggregates" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _is_event_table(diff: object) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            name = getattr(part, "name", None) or getattr(
                getattr(part, "table", None), "name", None
            )
            if name in EVENT_TABLE_NAMES or str(name).startswith("ix_outbox"):
                return True
    return False


def test_models_match_the_migrations_and_downgrade_keeps_the_event_tables(
    migrated_database: Callable[[str], str],
) -> None:
    url = migrated_database("diagnostics")
    with ThreadPoolExecutor(max_workers=1) as pool:  # Alembic's env runs its own event loop
        pool.submit(_check, url).result()
