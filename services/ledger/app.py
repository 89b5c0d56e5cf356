"""The ledger service application."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ledger.accounts import router as accounts
from services.ledger.approvals import router as approvals
from services.ledger.audit import router as audit
from services.ledger.audit.service import sealer
from services.ledger.authority import router as authority
from services.ledger.cards import router as cards
from services.ledger.clearing import router as clearing
from services.ledger.closings import router as closings
from services.ledger.consumers import SUBSCRIPTIONS
from services.ledger.currencies import router as currencies
from services.ledger.demurrage import router as demurrage
from services.ledger.directory import router as directory
from services.ledger.errors import LedgerDomainError
from services.ledger.figures import router as figures
from services.ledger.holds import router as holds
from services.ledger.holds import service as hold_service
from services.ledger.http.access_gate import ledger_access_gate
from services.ledger.payment_requests import router as payment_requests
from services.ledger.programmes import router as programmes
from services.ledger.schedules import router as schedules
from services.ledger.schedules.service.runner import Scheduler
from services.ledger.settings import LedgerSettings
from services.ledger.transactions import router as transactions
from shared.background import background_task, pause
from shared.service_app import build_service_app

log = structlog.get_logger(__name__)

DESCRIPTION = (
    "Double-entry ledger for local complementary currencies, mutual credit, time banks and "
    "earmarked card credits. Amounts are integers in minor units. Scopes: `ledger:admin` "
    "(currencies, accounts), `ledger:post` (transactions, holds, batches, mandates, payment "
    "requests), `ledger:read`, and one per operator act: `ledger:issue`, `ledger:reconvert`, "
    "`ledger:demurrage`, `ledger:sweep`, `ledger:reverse`. A debit needs authority over the "
    "account: its holder, a mandate within its limits, the currency's operator, or the payer's "
    "consent: a card presented for it, or a payment request its principal accepts."
)


async def sweep_holds(
    factory: async_sessionmaker[AsyncSession], *, interval_s: float, stop: asyncio.Event
) -> None:
    """Expire due holds until ``stop`` is set, one short transaction per round."""
    while not stop.is_set():
        expired = 0
        try:
            async with factory() as session, session.begin():
                expired = await hold_service.expire_due_holds(session)
            if expired:
                log.info("holds_expired", count=expired)
        except Exception:
            log.exception("hold_sweep_failed")
        if not expired:
            await pause(stop, interval_s)


def create_app(settings: LedgerSettings | None = None) -> FastAPI:
    settings = settings or LedgerSettings()

    async def run_sweeper(app: FastAPI, stop: asyncio.Event) -> None:
        await sweep_holds(
            app.state.session_factory, interval_s=settings.hold_sweep_interval_s, stop=stop
        )

    start_sweeper, stop_sweeper = background_task(
        "hold-sweeper", run_sweeper, enabled=settings.run_background_tasks
    )
    start_sealer, stop_sealer = sealer.lifecycle(settings)

    async def run_scheduler(app: FastAPI, stop: asyncio.Event) -> None:
        await Scheduler(app.state.session_factory).run_forever(
            stop, interval_s=settings.scheduler_tick_interval_s
        )

    start_scheduler, stop_scheduler = background_task(
        "scheduler",
        run_scheduler,
        enabled=settings.run_background_tasks and settings.scheduler_enabled,
    )

    return build_service_app(
        settings,
        access_gate=ledger_access_gate,
        title="Proxima ledger",
        description=DESCRIPTION,
        routers=[
            currencies.router,
            currencies.reserve_router,
            demurrage.router,
            accounts.router,
            authority.router,
            payment_requests.router,
            approvals.router,
            closings.router,
            schedules.router,
            transactions.router,
            holds.router,
            transactions.batch_router,
            programmes.router,
            audit.router,
            figures.router,
            cards.router,
            directory.router,
            clearing.router,
        ],
        subscriptions=SUBSCRIPTIONS,
        on_startup=[start_sweeper, start_sealer, start_scheduler],
        on_shutdown=[stop_scheduler, stop_sealer, stop_sweeper],
        domain_errors=(LedgerDomainError,),
    )
