"""The funding service application."""

from fastapi import FastAPI

from services.funding.api import (
    applications,
    catalogue,
    committee,
    instruction,
    payments,
    progress,
    reports,
)
from services.funding.consumers import subscription
from services.funding.domain.errors import FundingDomainError
from services.funding.settings import FundingSettings
from services.funding.store.blobs import FilesystemBlobStore
from shared.service_app import build_service_app

DESCRIPTION = """Grant workflows of the proximity-economy policy: programmes and their yearly
envelopes (AP/CP), calls for projects, applications and their instruction, committee
decisions, conventions, payments in tranches (euros or local currency through the ledger)
and reporting. Every error is RFC 9457 problem+json."""


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    settings = settings or FundingSettings()
    app = build_service_app(
        settings,
        title="Proxima funding",
        description=DESCRIPTION,
        routers=[
            catalogue.router,
            applications.router,
            instruction.router,
            committee.router,
            payments.router,
            progress.router,
            reports.router,
        ],
        subscriptions=[subscription],
        domain_errors=(FundingDomainError,),
    )
    app.state.blob_store = FilesystemBlobStore(settings.documents_dir)
    return app
