"""Default deny: every API endpoint of every service declares the scope it requires.

Imports each service's ``create_app`` and walks its routes the way FastAPI routes requests
(included routers and their dependencies too); any APIRoute without a
`shared.auth.require_scope` dependency fails, unless it is one of the few public paths or
one of the public service routes named in ``PUBLIC_SERVICE_ROUTES``, which must also be,
exactly, the gateway's allowlist of routes it forwards without a token.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from services.gateway.traffic.public_routes import PUBLIC_METHODS, PUBLIC_ROUTES, is_public
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
# Service routes anyone may read without a token, through the gateway's allowlist
# (`services.gateway.traffic.public_routes`): named here one by one, so that a route only
# becomes public when both lists say so.
PUBLIC_SERVICE_ROUTES = frozenset(
    {
        ("ledger", "/public/directory"),
        ("ledger", "/public/directory.geojson"),
        ("diagnostics", "/public/opendata/currency-figures.json"),
        ("diagnostics", "/public/opendata/currency-figures.csv"),
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


def _undeclared(app: FastAPI, public: frozenset[str] = frozenset()) -> list[str]:
    missing = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        path = context.path or ""
        if path in PUBLIC_PATHS or path in public or path.startswith(PUBLIC_PREFIXES):
            continue
        if not declared_scopes(context):
            methods = ",".join(sorted(context.methods or ()))
            missing.append(f"{methods} {path}")
    return missing


@pytest.mark.parametrize("service", SERVICES)
def test_every_endpoint_declares_a_scope(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = frozenset(path for name, path in PUBLIC_SERVICE_ROUTES if name == service)
    missing = _undeclared(_app(service, tmp_path, monkeypatch), public)
    assert not missing, f"{service}: endpoints without a declared scope: {missing}"


def test_the_gateway_lets_through_without_a_token_only_the_routes_named_here() -> None:
    assert PUBLIC_ROUTES == PUBLIC_SERVICE_ROUTES
    assert PUBLIC_METHODS == {"GET"}
    assert is_public("ledger", "GET", "/public/directory")
    assert not is_public("ledger", "POST", "/public/directory")
    assert not is_public("ledger", "GET", "/public/directory/")
    assert not is_public("ledger", "GET", "/directory/listings")
    assert not is_public("diagnostics", "GET", "/public/directory")


@pytest.mark.parametrize("service", ["ledger", "diagnostics"])
def test_every_public_route_exists_and_is_a_read_without_a_scope(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(service, tmp_path, monkeypatch)
    routes = {
        (context.path, method): declared_scopes(context)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }
    for name, path in PUBLIC_SERVICE_ROUTES:
        if name == service:
            assert routes.get((path, "GET")) == [], f"{service} GET {path}"
            assert not [m for p, m in routes if p == path and m != "GET"]


def test_the_check_catches_an_undeclared_endpoint() -> None:
    app = FastAPI()

    @app.get("/secrets")
    async def leak() -> dict[str, str]:
        return {}

    assert _undeclared(app) == ["GET /secrets"]
