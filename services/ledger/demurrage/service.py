"""Demurrage runs: take each holding account's charge for a closed period into the fund.

A run is keyed by (currency, period start). Accounts are charged in id order, in chunks,
each chunk in its own database transaction that also claims every charged account's key
(``account_charge_key``) and advances the run's progress. A run interrupted by a crash is
resumed by asking for it again: accounts already charged are skipped by their key, so
nobody pays twice; a completed run is returned as is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ledger.accounts import service as accounts
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.currencies.service.registry import currency_rules
from services.ledger.database.outbox import emit
from services.ledger.demurrage import repository as repo
from services.ledger.demurrage import rules as demurrage
from services.ledger.demurrage.errors import DemurrageNotConfigured
from services.ledger.errors import InvalidPeriod
from services.ledger.idempotency import service as keys
from services.ledger.transactions.service import single as transactions
from shared.auth import Principal
from shared.events.catalog.ledger import DemurrageApplied
from shared.problems import NotFound

CHUNK = 200
CHARGED_TYPES = [t.value for t in AccountType if demurrage.is_charged(t)]
CLIENT = "system:demurrage"


def run_view(row: Any) -> dict[str, Any]:
    return {
        "run_key": row["run_key"],
        "currency": row["currency"],
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        "fund_account_id": row["fund_account"],
        "status": row["status"],
        "accounts_total": row["accounts_total"],
        "accounts_done": row["accounts_done"],
        "charged_total": row["charged_total"],
    }


async def _charge_one(
    session: AsyncSession, *, run: Any, account_id: UUID, rate_ppm: int, days: int, actor: Actor
) -> int:
    """Charge one account once (keyed); returns what it paid."""
    key = demurrage.account_charge_key(run["run_key"], account_id)
    if await keys.claimed_before(session, client_id=CLIENT, key=key):
        return 0
    locked = await transactions.lock_accounts(session, [account_id, run["fund_account"]])
    account = locked[account_id]
    spans = demurrage.balance_spans(
        opening_balance=await repo.balance_before(
            session, account_id=account_id, day=run["period_start"]
        ),
        movements=await repo.movements_between(
            session, account_id=account_id, start=run["period_start"], end=run["period_end"]
        ),
        start=run["period_start"],
        end=run["period_end"],
    )
    charge = demurrage.demurrage_charge(
        rate_ppm=rate_ppm,
        period_days=days,
        spans=spans,
        available_now=account["posted"] - account["held"],
    )
    legs = demurrage.demurrage_postings(
        currency=run["currency"], fund=run["fund_account"], charges={account_id: charge}
    )
    if legs and account["status"] == "active":
        # An operator act: the run was started by the currency's operator (the route checks
        # it) or by a schedule the operator recorded, and resumes on its behalf.
        await transactions.post(
            session,
            actor=actor,
            legs=legs,
            kind="demurrage",
            effective_date=run["period_end"],
            description=f"demurrage {run['period_start'].isoformat()}",
            metadata={"run_key": run["run_key"]},
            idempotency_key=key,
        )
        return charge
    return 0


async def run_demurrage(
    factory: async_sessionmaker[AsyncSession],
    *,
    currency: str,
    period_start: date,
    fund: UUID,
    today: date | None = None,
    actor: Actor | None = None,
    on_progress: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Run (or resume, or return) the demurrage of ``currency`` for one closed period.

    ``actor``: whose operator act the charges are (a schedule's standing authorisation;
    by default the run's own principal); ``on_progress`` is told each chunk's progress."""
    actor = actor or Actor(CLIENT, frozenset({currency}))
    async with factory() as session, session.begin():
        rules = await currency_rules(session, currency)
        if rules.demurrage is None:
            raise DemurrageNotConfigured(f"{currency} has no demurrage rule", currency=currency)
        days = demurrage.period_days(rules.demurrage.period, period_start)
        _, end = demurrage.period_bounds(rules.demurrage.period, period_start)
        if end > (today or datetime.now(UTC).date()):
            raise InvalidPeriod("the period is not over yet", period_end=end.isoformat())
        fund_row = await accounts.find_account(session, fund)
        if fund_row is None or fund_row["currency"] != currency or fund_row["type"] != "fund":
            raise DemurrageNotConfigured("name a fund account of this currency")
        run: Any = await repo.start_demurrage_run(
            session,
            run_key=demurrage.period_key(currency, period_start),
            currency=currency,
            period_start=period_start,
            period_end=end,
            fund_account=fund,
            accounts_total=await repo.count_accounts(
                session, currency=currency, types=CHARGED_TYPES
            ),
        )
        if run["fund_account"] != fund:
            raise DemurrageNotConfigured(
                "this period already runs into another fund",
                fund_account_id=str(run["fund_account"]),
            )
        if run["status"] != "completed":
            # A resumed run walks every account again; charged ones are skipped by key.
            await repo.update_demurrage_run(session, run["run_key"], accounts_done=0)
            run = {**run, "accounts_done": 0}
    rate = rules.demurrage.rate_ppm
    after: UUID | None = None
    while run["status"] != "completed":
        async with factory() as session, session.begin():
            run = await repo.get_demurrage_run(session, run["run_key"], lock=True)
            assert run is not None
            ids = await repo.charged_account_ids(
                session, currency=currency, types=CHARGED_TYPES, after=after, limit=CHUNK
            )
            charged = 0
            for account_id in ids:
                charged += await _charge_one(
                    session, run=run, account_id=account_id, rate_ppm=rate, days=days, actor=actor
                )
            done = len(ids) < CHUNK
            await repo.update_demurrage_run(
                session,
                run["run_key"],
                accounts_done=run["accounts_done"] + len(ids),
                charged_total=run["charged_total"] + charged,
                **({"status": "completed", "finished_at": datetime.now(UTC)} if done else {}),
            )
            run = await repo.get_demurrage_run(session, run["run_key"])
            assert run is not None
            if done:
                await emit(
                    session,
                    DemurrageApplied(
                        currency=currency,
                        period_start=run["period_start"],
                        period_end=run["period_end"],
                        charged_total=run["charged_total"],
                        accounts=run["accounts_done"],
                    ),
                    run["run_key"],
                )
            after = ids[-1] if ids else after
        if on_progress is not None:
            await on_progress(run_view(run))
    return run_view(run)


async def get_run(session: AsyncSession, *, currency: str, period_start: date) -> dict[str, Any]:
    row = await repo.get_demurrage_run(session, demurrage.period_key(currency, period_start))
    if row is None:
        raise NotFound(f"no demurrage run of {currency} for {period_start.isoformat()}")
    return run_view(row)


async def start_run(
    factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    currency: str,
    period_start: date,
    fund: UUID,
) -> dict[str, Any]:
    """`run_demurrage`, an act of the currency's operator."""
    principal.ensure_access("currencies", currency)
    authority.ensure_operator(principal, currency, act="a demurrage run")
    return await run_demurrage(factory, currency=currency, period_start=period_start, fund=fund)


async def read_run(
    session: AsyncSession, principal: Principal, *, currency: str, period_start: date
) -> dict[str, Any]:
    """A run of a currency the caller's tenancy lets it see."""
    principal.ensure_access("currencies", currency)
    return await get_run(session, currency=currency, period_start=period_start)
