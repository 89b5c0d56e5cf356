"""What every service offers whatever its domain: health, readiness, metrics, request ids,
and problem+json for errors."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable

import pytest

from shared.problems import PROBLEM_MEDIA_TYPE
from shared.settings import ServiceSettings
from tests.support.apps import serve
from tests.support.tokens import bearer, jwks_json

SERVICES = ["ledger", "funding", "diagnostics"]


def _settings(service: str, db_url: str, events_url: str) -> ServiceSettings:
    module = importlib.import_module(f"services.{service}.settings")
    cls = next(
        v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings"
    )
    return cls(  # type: ignore[no-any-return]
        env="test",
        database_url=db_url,
        events_database_url=events_url,
        jwks_json=jwks_json(),
        log_json=False,
    )


@pytest.mark.parametrize("service", SERVICES)
async def test_health_readiness_metrics_and_problem_errors(
    service: str, migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> None:
    create_app = importlib.import_module(f"services.{service}.app").create_app
    settings = _settings(service, migrated_database(service), new_database("events"))
    async with serve(create_app, settings) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "event_bus": "ok"}

        missing = await client.get("/no/such/path", headers={"X-Correlation-ID": "corr-42"})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert missing.json()["code"] == "not-found"
        assert missing.headers["x-correlation-id"] == "corr-42"
        assert missing.headers["x-request-id"]

        # /metrics is not public: a token with the metrics scope (or an allow-listed peer)
        assert (await client.get("/metrics")).status_code == 401
        other_scope = await client.get("/metrics", headers=bearer(scopes=["ledger:read"]))
        assert other_scope.status_code == 403
        scraped = await client.get("/metrics", headers=bearer(scopes=["metrics:read"]))
        assert scraped.status_code == 200
        metrics = scraped.text
        assert (
            f'proxima_http_requests_total{{method="GET",route="/healthz",service="{service}"'
            in metrics
        )

        schema = (await client.get("/openapi.json")).json()
        assert "Problem" in schema["components"]["schemas"]


async def test_readiness_reports_an_unreachable_database(
    new_database: Callable[[str], str],
) -> None:
    from services.ledger.app import create_app

    settings = _settings(
        "ledger", "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", new_database("events")
    )
    async with serve(create_app, settings) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unreachable")


async def test_startup_heap_is_frozen_while_serving_and_thawed_at_shutdown(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> None:
    """The full collector passes skip what startup built (see ``shared/gc_pauses``), and a
    stopped app hands it back so the objects can be collected."""
    create_app = importlib.import_module("services.ledger.app").create_app
    settings = _settings("ledger", migrated_database("ledger"), new_database("events"))
    gc.unfreeze()
    async with serve(create_app, settings) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
