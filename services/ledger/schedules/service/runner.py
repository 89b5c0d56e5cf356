"""The scheduler: on each tick, its leader runs every occurrence that fell due, in order.

Leadership is PostgreSQL's session-level advisory lock (`repository.try_lead`), taken for
one tick on a dedicated connection: of all replicas ticking at once, one leads, the others
skip the tick; a leader that dies loses the lock with its connection. Each occurrence is
also claimed by inserting its run under a unique key before it starts, so even two leaders
(a lock lost to a network cut while its holder still runs) could not run it twice; and a
replica runs a run only while holding that run's own advisory lock, rechecking it is still
``running`` once held, so resuming a run another replica is still running skips it.

Catch-up: an occurrence is due once it is past and later than the latest one run, so after
a downtime each missed one runs, oldest first, once. A run left ``running`` (its leader
died mid-run) is resumed first: every operation is idempotent (demurrage charges are keyed
per account, sweeps and expiries find nothing twice, a closing already made is a success).
A domain refusal ends a run as ``failed`` (recorded, with its problem code) and the next
occurrence goes on; any other error leaves the run ``running`` and stops this schedule's
catch-up until the next tick, so the order holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.ledger.schedules import repository as repo
from services.ledger.schedules import rules
from services.ledger.schedules.rules import Outcome
from services.ledger.schedules.service import operations
from services.ledger.schedules.service.schedules import schedule_of
from shared.background import pause
from shared.errors import DomainError
from shared.ids import uuid7

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    """One replica's scheduler; ``clock`` is injectable so tests can replay a downtime."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], *, clock: Clock = utc_now
    ) -> None:
        self.factory = factory
        self.clock = clock

    @property
    def engine(self) -> AsyncEngine:
        bind = self.factory.kw["bind"]
        assert isinstance(bind, AsyncEngine)
        return bind

    async def tick(self) -> list[dict[str, Any]]:
        """Run what is due if this replica leads now; returns the runs it finished."""
        async with self.engine.connect() as raw:
            conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
            if not await repo.try_lead(conn):
                return []
            try:
                return await self._run_due(self.clock())
            finally:
                try:
                    await repo.stop_leading(conn)
                except BaseException:
                    # A connection that may still hold the lock must not go back to the pool.
                    await conn.invalidate()
                    raise

    async def run_forever(self, stop: asyncio.Event, *, interval_s: float) -> None:
        """Tick now (a restart catches up at once), then every ``interval_s``."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler_tick_failed")
            await pause(stop, interval_s)

    async def _run_due(self, now: datetime) -> list[dict[str, Any]]:
        async with self.factory() as session:
            schedules = await repo.list_schedules(session)
        finished: list[dict[str, Any]] = []
        for schedule in schedules:
            await self._catch_up(schedule, now, finished)
        return finished

    async def _catch_up(
        self, schedule: Mapping[Any, Any], now: datetime, finished: list[dict[str, Any]]
    ) -> None:
        currency, operation = schedule["currency"], schedule["operation"]
        async with self.factory() as session, session.begin():
            stale = await repo.unfinished_runs(session, currency, operation)
            last = await repo.last_occurrence(session, currency, operation)
        for run in stale:
            if not await self._execute_once(schedule, run, finished, resumed=True):
                return
        for occurrence in rules.due(schedule_of(schedule), after=last, now=now):
            async with self.factory() as session, session.begin():
                claimed = await repo.claim_run(
                    session,
                    id=uuid7(),
                    currency=currency,
                    operation=operation,
                    scheduled_for=occurrence,
                    authorised_by=schedule["authorised_by"],
                )
            if claimed is not None and not await self._execute_once(schedule, claimed, finished):
                return

    async def _execute_once(
        self,
        schedule: Mapping[Any, Any],
        run: Mapping[Any, Any],
        finished: list[dict[str, Any]],
        *,
        resumed: bool = False,
    ) -> bool:
        """Run ``run`` holding its own advisory lock, if it is still running once the lock
        is held: a run another replica is running (two leaders, or a resumption racing the
        run it resumes) is skipped, not run twice. The claim makes a new occurrence once;
        this makes a resumed one once too."""
        async with self.engine.connect() as raw:
            conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
            if not await repo.try_hold_run(conn, run["id"]):
                return True  # another replica runs it
            try:
                if not await repo.still_running(conn, run["id"]):
                    return True  # finished meanwhile by the replica that held it
                if resumed:
                    async with self.factory() as session, session.begin():
                        run = await repo.retry_run(session, run["id"])
                return await self._execute(schedule, run, finished)
            finally:
                try:
                    await repo.release_run(conn, run["id"])
                except BaseException:
                    await conn.invalidate()  # it may still hold the lock
                    raise

    async def _execute(
        self, schedule: Mapping[Any, Any], run: Mapping[Any, Any], finished: list[dict[str, Any]]
    ) -> bool:
        """Run one claimed occurrence and record its end; False if it must be retried."""

        async def progress(value: dict[str, Any]) -> None:
            async with self.factory() as session, session.begin():
                await repo.update_run(session, run["id"], progress=value)

        error: dict[str, Any] | None = None
        try:
            outcome, final = await operations.perform(
                self.factory, schedule, run["scheduled_for"], progress
            )
        except DomainError as exc:
            outcome, final = Outcome.FAILED, None
            error = {"code": exc.code, "detail": exc.detail}
        except Exception:
            log.exception("scheduled_run_failed", run_id=str(run["id"]))
            return False
        values: dict[str, Any] = {
            "outcome": outcome.value,
            "finished_at": utc_now(),
            "error": error,
        }
        if final is not None:
            values["progress"] = final
        async with self.factory() as session, session.begin():
            await repo.update_run(session, run["id"], **values)
        log.info(
            "scheduled_run_finished",
            currency=schedule["currency"],
            operation=schedule["operation"],
            scheduled_for=run["scheduled_for"].isoformat(),
            outcome=outcome.value,
        )
        finished.append({**run, **values})
        return True
