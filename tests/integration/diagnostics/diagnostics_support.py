"""Tokens, settings and demo files for the diagnostics integration tests."""

from __future__ import annotations

from pathlib import Path

from services.diagnostics.settings import DiagnosticsSettings
from tests.support.tokens import bearer, jwks_json

DEMO = Path(__file__).resolve().parents[3] / "services" / "diagnostics" / "demo" / "data"

ADMIN = bearer(scopes=["diagnostics:admin"], client_id="admin", ttl_s=7200)
READ_ALL = bearer(
    scopes=["diagnostics:read"],
    tenants={"territories": ["*"], "currencies": ["*"]},
    client_id="reader",
    ttl_s=7200,
)
IMPORT_ALL = bearer(
    scopes=["diagnostics:import", "diagnostics:read"],
    tenants={"territories": ["*"]},
    client_id="importer",
    ttl_s=7200,
)
READ_ISERE = bearer(
    scopes=["diagnostics:read"],
    tenants={"territories": ["38"], "currencies": ["MESURE"]},
    client_id="isere",
    ttl_s=7200,
)
ADMIN_IMPORT = bearer(
    scopes=["diagnostics:import", "diagnostics:admin"],
    tenants={"territories": ["*"]},
    client_id="reference-admin",
    ttl_s=7200,
)
"""An administrator importing reference data (sectors are an admin act)."""


def demo_file(name: str) -> str:
    return (DEMO / name).read_text(encoding="utf-8")


def settings_for(db_url: str, events_url: str, **overrides: object) -> DiagnosticsSettings:
    return DiagnosticsSettings(
        env="test",
        database_url=db_url,
        events_database_url=events_url,
        jwks_json=jwks_json(),
        log_json=False,
        relay_poll_interval_s=0.05,
        aggregate_publish_interval_s=0.05,
        **overrides,  # type: ignore[arg-type]
    )
