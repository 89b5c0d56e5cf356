"""Use cases of schedules: record (a standing authorisation), read with the next run,
withdraw, and page through the history of runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.authority.service import checks as authority
from services.ledger.currencies.service import reserve
from services.ledger.currencies.service.registry import currency_rules, visible_currency
from services.ledger.schedules import repository as repo
from services.ledger.schedules import rules
from services.ledger.schedules.errors import InvalidSchedule, UnknownSchedule
from services.ledger.schedules.rules import Cadence, Operation, Schedule
from shared.auth import Principal
from shared.problems import Forbidden

ACT_SCOPES = {
    Operation.DEMURRAGE: "ledger:demurrage",
    Operation.VOUCHER_EXPIRY: "ledger:sweep",
    Operation.HOLD_EXPIRY: "ledger:admin",
    Operation.CLOSING: "ledger:admin",
    Operation.RESERVE_RECONCILIATION: "ledger:read",
}
"""The scope of the act a schedule will run: who records a schedule authorises, once and
for all its occurrences, what it could otherwise do by hand."""


def schedule_of(row: Mapping[Any, Any]) -> Schedule:
    return Schedule(
        currency=row["currency"],
        operation=Operation(row["operation"]),
        cadence=Cadence(row["cadence"]),
        local_time=row["local_time"],
        starts_at=row["starts_at"],
    )


async def schedule_view(session: AsyncSession, row: Mapping[Any, Any]) -> dict[str, Any]:
    last = await repo.last_occurrence(session, row["currency"], row["operation"])
    return {
        "currency": row["currency"],
        "operation": row["operation"],
        "cadence": row["cadence"],
        "local_time": row["local_time"].strftime("%H:%M"),
        "time_zone": rules.TIME_ZONE,
        "starts_at": row["starts_at"],
        "fund_account_id": row["fund_account"],
        "authorised_by": row["authorised_by"],
        "authorised_at": row["authorised_at"],
        "last_run_for": last,
        "next_run_at": rules.next_run(schedule_of(row), after=last),
    }


async def _check_fund(session: AsyncSession, currency: str, fund: UUID | None) -> None:
    if fund is None:
        return
    found = await accounts.find_account(session, fund)
    if found is None or found["currency"] != currency or found["type"] != "fund":
        raise InvalidSchedule("fund_account_id doit être un compte de fonds de cette monnaie")
    if (await currency_rules(session, currency)).demurrage is None:
        raise InvalidSchedule(f"{currency} n'a pas de règle de fonte", currency=currency)


async def _check_reserve(session: AsyncSession, principal: Principal, currency: str) -> None:
    """A reminder needs a reserve to remind of, and its figures name the euro reserve: the
    operator must see that currency too, as the on-demand reconciliation requires."""
    if await reserve.reserve_of(session, currency) is None:
        raise InvalidSchedule(
            f"{currency} n'a pas de réserve en euros à rapprocher", currency=currency
        )
    await reserve.ensure_reserve_access(session, principal, currency)


async def record(
    session: AsyncSession,
    principal: Principal,
    *,
    currency: str,
    operation: Operation,
    cadence: Cadence,
    local_time: time,
    starts_at: datetime | None,
    fund: UUID | None,
) -> dict[str, Any]:
    """Record (or replace) the schedule: the operator's standing authorisation, under which
    every occurrence runs in its name until it is withdrawn."""
    await visible_currency(session, principal, currency)
    authority.ensure_operator(principal, currency, act=f"scheduling {operation.value}")
    if _lacks_act_scope(principal, operation):
        raise Forbidden(
            f"planifier {operation.value} demande la portée {ACT_SCOPES[operation]}",
            scope=ACT_SCOPES[operation],
        )
    rules.check_schedule(operation, cadence, local_time, has_fund=fund is not None)
    await _check_fund(session, currency, fund)
    if operation is Operation.RESERVE_RECONCILIATION:
        await _check_reserve(session, principal, currency)
    row = await repo.upsert_schedule(
        session,
        currency=currency,
        operation=operation.value,
        cadence=cadence.value,
        local_time=local_time,
        starts_at=starts_at or datetime.now(UTC),
        fund_account=fund,
        authorised_by=authority.actor(principal).principal,
    )
    return await schedule_view(session, row)


def _lacks_act_scope(principal: Principal, operation: Operation) -> bool:
    return ACT_SCOPES[operation] not in principal.scopes and not principal.is_admin


async def read(
    session: AsyncSession, principal: Principal, currency: str, operation: Operation
) -> dict[str, Any]:
    await visible_currency(session, principal, currency)
    row = await repo.get_schedule(session, currency, operation.value)
    if row is None:
        raise UnknownSchedule(f"{currency} n'a pas de planification {operation.value}")
    return await schedule_view(session, row)


async def list_all(
    session: AsyncSession, principal: Principal, currency: str
) -> list[dict[str, Any]]:
    await visible_currency(session, principal, currency)
    return [
        await schedule_view(session, row) for row in await repo.list_schedules(session, currency)
    ]


async def withdraw(
    session: AsyncSession, principal: Principal, currency: str, operation: Operation
) -> None:
    """Withdraw the standing authorisation: no occurrence runs after this (its history
    stays)."""
    await visible_currency(session, principal, currency)
    authority.ensure_operator(principal, currency, act=f"unscheduling {operation.value}")
    if not await repo.delete_schedule(session, currency, operation.value):
        raise UnknownSchedule(f"{currency} n'a pas de planification {operation.value}")


async def history(
    session: AsyncSession,
    principal: Principal,
    currency: str,
    operation: Operation,
    *,
    before: datetime | None,
    limit: int,
) -> Sequence[Mapping[Any, Any]]:
    """The runs of a schedule, newest first (kept after the schedule is withdrawn)."""
    await visible_currency(session, principal, currency)
    return await repo.list_runs(session, currency, operation.value, before=before, limit=limit)
