"""The funding service application."""

import asyncio

from fastapi import FastAPI

from services.funding.applications import router as applications
from services.funding.committees import router as committees
from services.funding.consumers import subscription
from services.funding.errors import FundingDomainError
from services.funding.http.access_gate import funding_access_gate
from services.funding.instruction import router as instruction
from services.funding.instruction.blobs import FilesystemBlobStore
from services.funding.instruments import router as instruments
from services.funding.opendata import router as opendata
from services.funding.programmes import router as programmes
from services.funding.reports import router as reports
from services.funding.settings import FundingSettings
from services.funding.tranches import reconciler
from services.funding.tranches import router as tranches
from shared.background import background_task
from shared.service_app import build_service_app

DESCRIPTION = """Grant workflows of the proximity-economy policy: programmes and their yearly
envelopes (AP/CP), calls for projects, applications and their instruction, committee
decisions, conventions, payments in tranches (euros or local currency through the ledger)
and reporting; besides grants, repayable advances, honour loans, participatory loans and
guarantees with their schedules, repayments and guarantee calls. Every error is RFC 9457
problem+json."""


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    settings = settings or FundingSettings()

    async def run_reconciler(app: FastAPI, stop: asyncio.Event) -> None:
        await reconciler.run(
            app.state.session_factory,
            interval_s=settings.payment_reconcile_interval_s,
            after_s=settings.payment_reconcile_after_s,
            stop=stop,
        )

    start_reconciler, stop_reconciler = background_task(
        "payment-reconciler", run_reconciler, enabled=settings.run_background_tasks
    )
    app = build_service_app(
        settings,
        access_gate=funding_access_gate,
        title="Proxima funding",
        description=DESCRIPTION,
        routers=[
            programmes.router,
            applications.router,
            instruction.router,
            committees.router,
            tranches.router,
            instruments.router,
            reports.router,
            opendata.router,
        ],
        subscriptions=[subscription],
        on_startup=[start_reconciler],
        on_shutdown=[stop_reconciler],
        domain_errors=(FundingDomainError,),
    )
    app.state.blob_store = FilesystemBlobStore(settings.documents_dir)
    return app
