"""A production start names every setting it is missing, at once: compose and Kubernetes
start the services with PROXIMA_ENV=production, and a secret left at its default (the
ledger's card key once was) or a database URL left pointing at a developer's machine must
stop the start with the variable's name, not crash-loop on something vaguer."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.diagnostics.settings import DiagnosticsSettings
from services.funding.settings import FundingSettings
from services.gateway.settings import GatewaySettings
from services.ledger.settings import LedgerSettings
from shared.settings import ServiceSettings

SECRET = "a-production-secret-0123456789"
BACKEND = {
    "env": "production",
    "database_url": "postgresql+asyncpg://ledger:pw@postgres:5432/proxima_ledger",
    "event_bus": "kafka",
    "kafka_bootstrap": "kafka:9092",
    "jwks_url": "http://gateway:8000/.well-known/jwks.json",
}
GATEWAY = {
    **BACKEND,
    "jwks_url": "",
    "ledger_url": "http://ledger:8000",
    "funding_url": "http://funding:8000",
    "diagnostics_url": "http://diagnostics:8000",
    "jwt_private_keys_file": "/etc/proxima/jwt/jwt-private-keys.pem",
    "bootstrap_admin_secret": SECRET,
}


@pytest.fixture(autouse=True)
def _no_proxima_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PROXIMA_"):
            monkeypatch.delenv(name)


def _refusal(settings: type[ServiceSettings], **values: object) -> str:
    with pytest.raises(ValidationError) as raised:
        settings(**values)
    return str(raised.value)


def test_the_ledger_refuses_a_production_start_without_its_card_secret() -> None:
    message = _refusal(LedgerSettings, **BACKEND)
    assert "PROXIMA_CARD_FINGERPRINT_SECRET keeps its default value" in message
    assert ".env" in message and "Secrets" in message  # where to put it


def test_a_short_card_secret_is_refused_too() -> None:
    message = _refusal(LedgerSettings, **BACKEND, card_fingerprint_secret="short")
    assert "PROXIMA_CARD_FINGERPRINT_SECRET must have at least 16 characters" in message


def test_every_missing_setting_is_named_in_one_refusal() -> None:
    message = _refusal(LedgerSettings, env="production", event_bus="kafka")
    for variable in (
        "PROXIMA_DATABASE_URL",
        "PROXIMA_KAFKA_BOOTSTRAP",
        "PROXIMA_JWKS_URL",
        "PROXIMA_CARD_FINGERPRINT_SECRET",
    ):
        assert variable in message


def test_the_embedded_bus_needs_its_own_database_url_in_production() -> None:
    values = {**BACKEND, "event_bus": "embedded"}
    assert "PROXIMA_EVENTS_DATABASE_URL" in _refusal(FundingSettings, **values)


def test_the_gateway_needs_its_upstreams_signing_key_and_admin_secret() -> None:
    message = _refusal(GatewaySettings, env="production", event_bus="kafka")
    for variable in (
        "PROXIMA_LEDGER_URL",
        "PROXIMA_FUNDING_URL",
        "PROXIMA_DIAGNOSTICS_URL",
        "PROXIMA_JWT_PRIVATE_KEYS_FILE",
        "PROXIMA_BOOTSTRAP_ADMIN_SECRET",
    ):
        assert variable in message
    assert "PROXIMA_JWKS_URL" not in message  # it verifies with its own key ring


def test_complete_production_settings_start() -> None:
    assert LedgerSettings(**BACKEND, card_fingerprint_secret=SECRET).env == "production"
    assert FundingSettings(**BACKEND).env == "production"
    assert DiagnosticsSettings(**BACKEND).env == "production"
    assert GatewaySettings(**GATEWAY).env == "production"


def test_settings_from_the_environment_count_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**BACKEND, "card_fingerprint_secret": SECRET}.items():
        monkeypatch.setenv(f"PROXIMA_{name.upper()}", value)
    assert LedgerSettings().database_url == BACKEND["database_url"]


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_keep_their_defaults(env: str) -> None:
    assert LedgerSettings(env=env).card_fingerprint_secret == "change-me"
    assert GatewaySettings(env=env).ledger_url.startswith("http://127.0.0.1")
