"""The background task that flushes pending aggregate publications to the outbox.

Run through ``shared.background.background_task``: it stops on the stop event at the end of
a round rather than by cancellation, so no pooled connection is left half-closed.
"""

from __future__ import annotations

import asyncio

import structlog
from fastapi import FastAPI

from services.diagnostics.aggregates.service import publish_pending
from shared.background import pause

log = structlog.get_logger(__name__)


async def run(app: FastAPI, stop: asyncio.Event) -> None:
    """Drain the pending publications every ``aggregate_publish_interval_s`` until ``stop``."""
    factory = app.state.session_factory
    interval_s = app.state.settings.aggregate_publish_interval_s
    while not stop.is_set():
        try:
            while not stop.is_set():
                async with factory() as session, session.begin():
                    published = await publish_pending(session)
                if published == 0:
                    break
        except Exception:
            log.exception("aggregate_publication_failed")
        await pause(stop, interval_s)
