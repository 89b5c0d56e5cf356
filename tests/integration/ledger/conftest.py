"""A running ledger app on a freshly migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from services.ledger.app import create_app
from tests.integration.ledger.ledger_support import Ledger, ledger_settings
from tests.support.apps import serve


@pytest.fixture
def ledger_db(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("ledger")


@pytest.fixture
async def client(
    ledger_db: str, new_database: Callable[[str], str]
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app, ledger_settings(ledger_db, new_database("events"))) as c:
        yield c


@pytest.fixture
async def ledger(client: httpx.AsyncClient) -> Ledger:
    helper = Ledger(client)
    await helper.currency()
    return helper
