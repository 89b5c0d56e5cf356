"""A running ledger app on a freshly migrated database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

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
    running = serve(create_app, ledger_settings(ledger_db, new_database("events")))
    c = await running.__aenter__()
    try:
        yield c
    finally:
        stopping = asyncio.ensure_future(running.__aexit__(None, None, None))
        done: set[asyncio.Future[Any]] = set()
        for _ in range(6):
            done, _ = await asyncio.wait({stopping}, timeout=10)
            if done:
                break
            # Python 3.11's asyncio.wait_for can swallow a cancellation (fixed in 3.12); the
            # event runtime's relay and consumers await one, so they may miss the first cancel.
            for task in asyncio.all_tasks():
                if task.get_name() == "outbox-relay" or task.get_name().startswith("consumer-"):
                    task.cancel()
        if not done:  # say what hangs instead of hanging the whole run
            for task in asyncio.all_tasks():
                task.print_stack(file=sys.stderr)
            raise RuntimeError("the ledger app did not stop within 60 s")


@pytest.fixture
async def ledger(client: httpx.AsyncClient) -> Ledger:
    helper = Ledger(client)
    await helper.currency()
    return helper
