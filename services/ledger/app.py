"""The ledger service application."""

from fastapi import FastAPI

from services.ledger.settings import LedgerSettings
from shared.service_app import build_service_app


def create_app(settings: LedgerSettings | None = None) -> FastAPI:
    settings = settings or LedgerSettings()
    return build_service_app(
        settings,
        title="Proxima ledger",
        description="",
    )
