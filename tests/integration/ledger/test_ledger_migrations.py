"""The ledger's Alembic history (the baseline ``ledger_0013``, the schedules'
``ledger_0014``, the directory's ``ledger_0016``, the reserve reminders' ``ledger_0020``, then
clearing's ``ledger_0017``, the posting group function's ``ledger_0021``, the atomic batch
function's ``ledger_0022``: ids name the
branch they were written on, the chain the order they landed in) goes
down to nothing and up again, and every table model the repositories query with names
real columns."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from alembic import command
from sqlalchemy import create_engine, inspect, text

from services.ledger.database import clearing_tables  # noqa: F401  (its tables join the metadata)
from services.ledger.database.tables import metadata
from shared.migrate import alembic_config

FUNCTIONS = "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"


def _sync(url: str) -> str:
    return url.replace("+asyncpg", "+psycopg")


def _models_name_real_columns(engine: object) -> None:
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert {c.name for c in table.columns} <= columns, table.name


def _check(url: str) -> None:
    engine = create_engine(_sync(url))
    try:
        _models_name_real_columns(engine)
        with engine.connect() as conn:
            functions = set(conn.execute(text(FUNCTIONS)).scalars())
        assert {"ledger_apply_posting", "ledger_refuse_closed_period"} <= functions
        config = alembic_config("ledger", url)
        command.downgrade(config, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
            assert conn.execute(text(FUNCTIONS)).all() == []
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
                "ledger_0022"
            )
            assert set(conn.execute(text(FUNCTIONS)).scalars()) == functions
            assert conn.execute(text("SELECT id FROM audit_sealer_state")).scalar_one() == 1
        _models_name_real_columns(engine)
    finally:
        engine.dispose()


def test_the_baseline_downgrades_to_nothing_and_upgrades_again(
    migrated_database: Callable[[str], str],
) -> None:
    url = migrated_database("ledger")
    with ThreadPoolExecutor(max_workers=1) as pool:  # Alembic's env runs its own event loop
        pool.submit(_check, url).result()
