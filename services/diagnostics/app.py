"""The diagnostics service application."""

from fastapi import FastAPI

from services.diagnostics.settings import DiagnosticsSettings
from shared.service_app import build_service_app


def create_app(settings: DiagnosticsSettings | None = None) -> FastAPI:
    settings = settings or DiagnosticsSettings()
    return build_service_app(
        settings,
        title="Proxima diagnostics",
        description="",
    )
