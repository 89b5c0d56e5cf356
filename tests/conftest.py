"""Session-wide real infrastructure: one PostgreSQL server for the whole run, one Apache
Kafka broker started only if a test asks for it. Both are stopped at the end."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.postgres import REPO, LocalPostgres
from shared.db import make_engine
from tests.support.databases import database_factory, migrated_database_factory
from tests.support.ports import free_port

# One folder per pytest process, so concurrent runs (developers, CI) never share a server.
TEST_ROOT = REPO / ".cache" / "test" / f"run-{os.getpid()}"


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM (CI's timeout, a parent's kill) unwinds like Ctrl-C, so session fixtures stop
    # PostgreSQL and Kafka instead of leaving them orphaned.
    signal.signal(signal.SIGTERM, signal.default_int_handler)


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    server = LocalPostgres(data_dir=TEST_ROOT / "postgres", port=free_port(), durable=False)
    server.destroy()
    server.start()
    try:
        yield server
    finally:
        server.destroy()
        shutil.rmtree(TEST_ROOT, ignore_errors=True)


@pytest.fixture(scope="session")
def new_database(postgres: LocalPostgres) -> Callable[[str], str]:
    """Create a fresh, empty database and return its SQLAlchemy URL."""
    return database_factory(postgres)


@pytest.fixture(scope="session")
def migrated_database(new_database: Callable[[str], str]) -> Callable[[str], str]:
    """Create a fresh database with a service's migrations applied."""
    return migrated_database_factory(new_database)


@pytest.fixture
async def engine_for() -> AsyncIterator[Callable[[str], AsyncEngine]]:
    engines: list[AsyncEngine] = []

    def make(url: str) -> AsyncEngine:
        engine = make_engine(url, pool_size=5, max_overflow=5)
        engines.append(engine)
        return engine

    yield make
    await asyncio.gather(*(e.dispose() for e in engines))


@pytest.fixture(scope="session")
def kafka() -> Iterator[object]:
    """A real single-node Apache Kafka (KRaft), started on first use, secured as in
    production (SASL/SCRAM, default deny, the ACLs of ``deploy/kafka_acls.py``): clients
    authenticate with ``kafka.client_settings(principal)`` (``client_env``,
    ``client_options``), a service as itself, tests' probes as ``admin``."""
    from deploy.local.kafka_broker import KafkaBroker

    data_dir = TEST_ROOT / "kafka"
    shutil.rmtree(data_dir, ignore_errors=True)  # a fresh cluster: no topics from earlier runs
    broker = KafkaBroker(port=free_port(), data_dir=Path(data_dir))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
