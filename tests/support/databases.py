"""Database factories over a test PostgreSQL server: the session's fast one (root
conftest) and the resilience suite's durable one share them, so both hand out databases
the same way and names never collide between the two servers' users."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from deploy.local.postgres import LocalPostgres
from shared.migrate import upgrade

_db_counter = itertools.count(1)


def database_factory(postgres: LocalPostgres) -> Callable[[str], str]:
    """Create a fresh, empty database on ``postgres`` and return its SQLAlchemy URL."""

    def create(label: str) -> str:
        name = f"t{next(_db_counter)}_{label}"
        postgres.create_database(name, recreate=True)
        return postgres.database_url(name)

    return create


def migrated_database_factory(new_database: Callable[[str], str]) -> Callable[[str], str]:
    """Create a fresh database with a service's migrations applied."""

    def create(service: str) -> str:
        url = new_database(service)
        # Alembic's env runs its own event loop: give it a thread, since tests calling this
        # fixture factory are usually inside the test's running loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(upgrade, service, url).result()
        return url

    return create
