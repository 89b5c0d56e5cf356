"""A diagnostics app on a fresh migrated database (empty, or with the demo data)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from services.diagnostics.app import create_app
from tests.integration.diagnostics.diagnostics_support import ADMIN, settings_for
from tests.support.apps import serve


@pytest.fixture
async def client(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh, empty diagnostics service."""
    settings = settings_for(
        migrated_database("diagnostics"), new_database("events"), run_background_tasks=False
    )
    async with serve(create_app, settings) as http:
        yield http


@pytest.fixture(scope="module")
async def demo_client(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> AsyncIterator[httpx.AsyncClient]:
    """A diagnostics service with the demo data loaded (shared by a module's read-only tests)."""
    settings = settings_for(
        migrated_database("diagnostics"), new_database("events"), run_background_tasks=False
    )
    async with serve(create_app, settings) as http:
        loaded = await http.post("/admin/demo", headers=ADMIN)
        assert loaded.status_code == 200, loaded.text
        yield http
