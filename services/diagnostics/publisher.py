"""The background task that flushes pending aggregate publications to the outbox."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from fastapi import FastAPI

from services.diagnostics.service.aggregates import publish_pending

log = structlog.get_logger(__name__)


async def _run(app: FastAPI, interval_s: float) -> None:
    factory = app.state.session_factory
    while True:
        try:
            while True:
                async with factory() as session, session.begin():
                    published = await publish_pending(session)
                if published == 0:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("aggregate_publication_failed")
        await asyncio.sleep(interval_s)


async def start(app: FastAPI) -> None:
    settings = app.state.settings
    if settings.run_background_tasks:
        app.state.aggregate_publisher = asyncio.create_task(
            _run(app, settings.aggregate_publish_interval_s), name="aggregate-publisher"
        )


async def stop(app: FastAPI) -> None:
    task = getattr(app.state, "aggregate_publisher", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
