"""Default deny: every API endpoint of every service declares the scope it requires.

Imports each service's ``create_app`` and walks its routes the way FastAPI routes requests
(included routers and their dependencies too); any APIRoute without a
`shared.auth.require_scope` dependency fails, unless it is one of the few public paths.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from shared.auth import declared_scopes

SERVICES = ("ledger", "funding", "diagnostics", "gateway")
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/oauth/token",
        "/.well-known/jwks.json",
        "/docs",
        "/openapi.json",
        "/dashboard",
    }
)
PUBLIC_PREFIXES = ("/static/",)


def _app(service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The service's app as its factory builds it from the environment (nothing started)."""
    monkeypatch.setenv("PROXIMA_ENV", "test")
    monkeypatch.setenv("PROXIMA_RUN_BACKGROUND_TASKS", "false")
    monkeypatch.setenv("PROXIMA_SIGNING_KEYS_DIR", str(tmp_path / "keys"))
    app: FastAPI = importlib.import_module(f"services.{service}.app").create_app()
    return app


def _undeclared(app: FastAPI) -> list[str]:
    missing = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        path = context.path or ""
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            continue
        if not declared_scopes(context):
            methods = ",".join(sorted(context.methods or ()))
            missing.append(f"{methods} {path}")
    return missing


@pytest.mark.parametrize("service", SERVICES)
def test_every_endpoint_declares_a_scope(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = _undeclared(_app(service, tmp_path, monkeypatch))
    assert not missing, f"{service}: endpoints without a declared scope: {missing}"


def test_the_check_catches_an_undeclared_endpoint() -> None:
    app = FastAPI()

    @app.get("/secrets")
    async def leak() -> dict[str, str]:
        return {}

    assert _undeclared(app) == ["GET /secrets"]
