"""The gateway's Alembic history goes down and up again cleanly."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from sqlalchemy import create_engine, inspect

from shared.migrate import alembic_config, upgrade


def test_the_history_downgrades_to_the_base_and_upgrades_again(
    new_database: Callable[[str], str],
) -> None:
    url = new_database("gateway_migrations")
    config = alembic_config("gateway", url)
    upgrade("gateway", url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    engine = create_engine(url.replace("+asyncpg", "+psycopg"))
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"clients", "client_secrets", "stream_events", "dashboard_state"} <= tables
