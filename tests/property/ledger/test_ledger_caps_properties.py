"""Hypothesis drives random transfers against the real store with both caps set, and a
simple model: the store accepts exactly what the model accepts, the debt counter always
equals the sum of negative balances and stays under the cap, and no member receives more
than its monthly load cap."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Text, Uuid, column, select, table

from services.ledger.accounts import service as account_service
from services.ledger.accounts.errors import CreditLimitExceeded
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.rules import Actor
from services.ledger.currencies.service import registry
from services.ledger.database.tables import account_balances
from services.ledger.errors import LedgerDomainError
from services.ledger.transactions.errors import (
    DebtCapExceeded,
    DuplicateAccountPosting,
    MonthlyLoadCapExceeded,
)
from services.ledger.transactions.rules import Posting
from services.ledger.transactions.service import single as transactions
from shared.db import make_engine, make_session_factory

# The caps' counters, written by triggers only: no application code reads them, so they have
# no table in `services.ledger.database.tables`; this test names the columns it reads.
currency_debt = table("currency_debt", column("currency", Text), column("total_debt", BigInteger))
account_monthly_loads = table(
    "account_monthly_loads", column("account_id", Uuid), column("loaded", BigInteger)
)

LIMIT = 60
DEBT_CAP = 100
LOAD_CAP = 150
MEMBERS = 4
_codes = itertools.count(1)

transfers = st.lists(
    st.tuples(st.integers(0, MEMBERS - 1), st.integers(0, MEMBERS - 1), st.integers(1, 70)),
    max_size=25,
)


async def _open(s: Any, code: str, rules: dict[str, Any]) -> list[UUID]:
    await registry.create_currency(
        s, code=code, kind="mutual_credit", scale=2, operator="prop", rules=rules
    )
    ids = []
    for i in range(MEMBERS):
        row = await account_service.open_account(
            s,
            currency=code,
            account_type=AccountType.MEMBER,
            credit_limit=None,
            name=f"m{i}",
            territory=None,
            merchant_category=None,
            metadata={},
            holder="prop",
        )
        ids.append(row["id"])
    return ids


async def scenario(url: str, ops: list[tuple[int, int, int]]) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    factory = make_session_factory(engine)
    code = f"CAP{next(_codes)}"
    rules = {
        "credit_limit": {
            "default_limit": LIMIT,
            "max_limit": LIMIT,
            "max_total_debt": DEBT_CAP,
        },
        "monthly_load_cap": LOAD_CAP,
    }
    try:
        async with factory() as s, s.begin():
            ids = await _open(s, code, rules)
        posted = [0] * MEMBERS
        loaded = [0] * MEMBERS
        for src, dst, amount in ops:
            after = posted.copy()
            after[src] -= amount
            after[dst] += amount
            # Every reason the model sees to refuse; when several apply, the store may
            # name any one of them (which depends on the order of its checks).
            reasons = {
                DuplicateAccountPosting: src == dst,
                CreditLimitExceeded: after[src] < -LIMIT,
                DebtCapExceeded: sum(max(0, -b) for b in after) > DEBT_CAP,
                MonthlyLoadCapExceeded: loaded[dst] + amount > LOAD_CAP,
            }
            predicted = {kind for kind, applies in reasons.items() if applies}
            expected = not predicted
            refusal: LedgerDomainError | None = None
            try:
                async with factory() as s, s.begin():
                    legs = [Posting(ids[src], code, -amount), Posting(ids[dst], code, amount)]
                    await transactions.post(s, actor=Actor("prop"), legs=legs)
                accepted = True
            except LedgerDomainError as exc:
                accepted = False
                refusal = exc
            assert accepted == expected, (src, dst, amount, posted, loaded, refusal)
            if refusal is not None:
                assert type(refusal) in predicted, (src, dst, amount, posted, loaded, refusal)
            if accepted:
                posted = after
                loaded[dst] += amount
            await check(factory, code, ids, posted, loaded)
    finally:
        await engine.dispose()


async def check(
    factory: Callable[[], Any], code: str, ids: list[UUID], posted: list[int], loaded: list[int]
) -> None:
    async with factory() as s:
        rows = dict(
            (
                await s.execute(
                    select(account_balances.c.account_id, account_balances.c.posted).where(
                        account_balances.c.account_id.in_(ids)
                    )
                )
            ).all()
        )
        debt = (
            await s.execute(
                select(currency_debt.c.total_debt).where(currency_debt.c.currency == code)
            )
        ).scalar_one()
        loads = dict(
            (
                await s.execute(
                    select(
                        account_monthly_loads.c.account_id, account_monthly_loads.c.loaded
                    ).where(account_monthly_loads.c.account_id.in_(ids))
                )
            ).all()
        )
    assert [rows[i] for i in ids] == posted
    assert debt == sum(max(0, -b) for b in posted)
    assert [loads.get(i, 0) for i in ids] == loaded


@pytest.fixture(scope="module")
def caps_db(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("ledger")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(ops=transfers)
def test_the_caps_hold_and_their_counters_match_the_balances(
    caps_db: str, ops: list[tuple[int, int, int]]
) -> None:
    asyncio.run(scenario(caps_db, ops))
