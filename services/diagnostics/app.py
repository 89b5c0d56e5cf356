"""The diagnostics service application."""

from fastapi import FastAPI

from services.diagnostics.aggregates import publisher
from services.diagnostics.aggregates import router as aggregates
from services.diagnostics.consumers import subscription
from services.diagnostics.demo import router as demo
from services.diagnostics.exports import router as exports
from services.diagnostics.geography import router as geography
from services.diagnostics.grants import router as grants
from services.diagnostics.http.access_gate import diagnostics_access_gate
from services.diagnostics.imports import router as imports
from services.diagnostics.incomes import router as incomes
from services.diagnostics.indicators import router as indicators
from services.diagnostics.opendata import router as opendata
from services.diagnostics.perimeters import router as perimeters
from services.diagnostics.settings import DiagnosticsSettings
from services.diagnostics.territories import router as territories
from shared.background import background_task
from shared.service_app import build_service_app


def create_app(settings: DiagnosticsSettings | None = None) -> FastAPI:
    settings = settings or DiagnosticsSettings()
    start_publisher, stop_publisher = background_task(
        "aggregate-publisher", publisher.run, enabled=settings.run_background_tasks
    )
    return build_service_app(
        settings,
        access_gate=diagnostics_access_gate,
        title="Proxima diagnostics",
        description=(
            "Territorial economic diagnostics: engines of development, indicators, typology, "
            "peers, reports, and the live local-currency aggregates fed by the ledger."
        ),
        # The order of the routers is the order of the paths in the OpenAPI document.
        routers=[
            imports.router,
            demo.router,
            territories.router,
            geography.router,
            indicators.router,
            incomes.router,
            exports.router,
            perimeters.router,
            aggregates.router,
            grants.router,
            opendata.router,
        ],
        subscriptions=[subscription(settings.consumer_group)],
        on_startup=[start_publisher],
        on_shutdown=[stop_publisher],
    )
