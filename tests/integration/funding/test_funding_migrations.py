"""The Alembic history matches the models, and the tranche conversion columns come and go
with their revision."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from services.funding.db.tables import Base
from shared.events.tables import EVENT_TABLES
from shared.migrate import alembic_config

EVENT_TABLE_NAMES = {table.name for table in EVENT_TABLES}
CONVERSION_COLUMNS = {"paid_units", "conversion_rate", "conversion_rounding"}


def _sync(url: str) -> str:
    return url.replace("+asyncpg", "+psycopg")


def _tranche_columns(engine: object) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("tranches")}


def _check(url: str) -> None:
    engine = create_engine(_sync(url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            # the event tables belong to shared.events, not to this metadata
            assert [d for d in diff if not _is_event_table(d)] == []
        assert CONVERSION_COLUMNS <= _tranche_columns(engine)
        config = alembic_config("funding", url)
        command.downgrade(config, "funding_0003")
        assert not CONVERSION_COLUMNS & _tranche_columns(engine)
        command.upgrade(config, "head")
        assert CONVERSION_COLUMNS <= _tranche_columns(engine)
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


def test_models_match_the_migrations_and_the_conversion_revision_downgrades(
    migrated_database: Callable[[str], str],
) -> None:
    url = migrated_database("funding")
    with ThreadPoolExecutor(max_workers=1) as pool:  # Alembic's env runs its own event loop
        pool.submit(_check, url).result()
