"""The regional demo loaded as a job: ``POST /admin/demo?dataset=region`` answers 202 at
once and the load runs beside the service, its progress at ``GET /admin/demo/jobs/{id}``.

Why a job: the load takes about 20 s on an idle machine (twice that under load), close to
or beyond the gateway's 30 s upstream timeout, so a synchronous answer made callers bypass
the gateway. The job is one all-or-nothing transaction, as before; its progress is written
in short transactions of its own, as an import's is.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.diagnostics.demo.region import PHASES, load_region_demo
from services.diagnostics.geography import files
from services.diagnostics.imports import service as imports
from services.diagnostics.imports.errors import ImportNotFound, JobAlreadyRunning
from services.diagnostics.imports.schemas import ImportRead
from shared.auth import Principal

log = structlog.get_logger(__name__)

REGION_JOB = "demo-region"
_running: set[asyncio.Task[None]] = set()  # a task nobody references may be collected


async def start_region_demo(
    factory: async_sessionmaker[AsyncSession], principal: Principal
) -> ImportRead:
    """Record the job and start it; refuse while another one runs (409)."""
    files.version()  # the wheel is missing: 503 now, not a failed job later
    async with factory() as session, session.begin():
        running = await imports.running_job(session, REGION_JOB)
        if running is not None:
            raise JobAlreadyRunning(
                f"the regional demo is already loading (job {running.id})", job_id=str(running.id)
            )
        job_id = await imports.open_job(
            session, kind=REGION_JOB, client_id=principal.client_id, steps=PHASES
        )
        opened = await region_job(session, job_id)
    task = asyncio.create_task(_run(factory, job_id), name=f"{REGION_JOB}-{job_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)
    return opened


async def _run(factory: async_sessionmaker[AsyncSession], job_id: uuid.UUID) -> None:
    async def progress(done: int) -> None:
        async with factory() as side, side.begin():
            await imports.job_progress(side, job_id, done)

    succeeded, report = False, {}
    try:
        async with factory() as session, session.begin():
            report = await load_region_demo(session, progress)
        succeeded = True
    except Exception as exc:  # the job's outcome is its report: never lost in a task
        log.exception("demo_job_failed", job_id=str(job_id))
        report = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        await _close(factory, job_id, succeeded=succeeded, report=report)


async def _close(
    factory: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    *,
    succeeded: bool,
    report: dict[str, Any],
) -> None:
    async with factory() as side, side.begin():
        if succeeded:
            await imports.job_progress(side, job_id, PHASES)
        await imports.close_job(side, job_id, succeeded=succeeded, report=report)


async def region_job(session: AsyncSession, job_id: uuid.UUID) -> ImportRead:
    found = await imports.job(session, job_id)
    if found is None or found.kind != REGION_JOB:
        raise ImportNotFound(f"no demo job {job_id}")
    return ImportRead.model_validate(found)
