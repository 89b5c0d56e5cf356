"""The resilience suite's own PostgreSQL, durable (fsync, synchronous commit and full
page writes on), so that what it proves about crashes holds on storage that keeps its
promises; the rest of the test session keeps its fast, non-durable server.

Each module gets its server (a few seconds to start): a test that SIGKILLs PostgreSQL
then never takes down another module's stack. ``new_database`` and ``migrated_database``
are redefined here so their databases come from this server, not from a session-wide
factory cached on the fast one."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from deploy.local.postgres import REPO, LocalPostgres
from tests.support.crash_ledger import Ledger
from tests.support.databases import database_factory, migrated_database_factory
from tests.support.ports import free_port
from tests.support.tokens import jwks_json

DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


@pytest.fixture(scope="module")
def postgres(request: pytest.FixtureRequest) -> Iterator[LocalPostgres]:
    name = request.module.__name__.rsplit(".", 1)[-1]
    root = REPO / ".cache" / "test" / f"run-{os.getpid()}" / f"postgres-durable-{name}"
    server = LocalPostgres(data_dir=root, port=free_port(), durable=True)
    server.destroy()
    server.start()
    try:
        settings = {key: server.psql(f"SHOW {key}").strip() for key in DURABLE}
        assert settings == DURABLE, settings
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def new_database(postgres: LocalPostgres) -> Callable[[str], str]:
    return database_factory(postgres)


@pytest.fixture(scope="module")
def migrated_database(new_database: Callable[[str], str]) -> Callable[[str], str]:
    return migrated_database_factory(new_database)


@pytest.fixture
def ledger(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> Iterator[Ledger]:
    """A ledger under uvicorn on the module's durable server, killable and restartable."""
    env = {
        **os.environ,
        "PROXIMA_ENV": "development",
        "PROXIMA_DATABASE_URL": migrated_database("ledger"),
        "PROXIMA_EVENTS_DATABASE_URL": new_database("events"),
        "PROXIMA_JWKS_JSON": jwks_json(),
        "PROXIMA_LOG_LEVEL": "WARNING",
    }
    server = Ledger(env=env, port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
