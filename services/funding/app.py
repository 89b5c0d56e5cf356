"""The funding service application."""

from fastapi import FastAPI

from services.funding.settings import FundingSettings
from shared.service_app import build_service_app


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    settings = settings or FundingSettings()
    return build_service_app(
        settings,
        title="Proxima funding",
        description="",
    )
