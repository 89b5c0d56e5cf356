"""Hypothesis drives random transfers, holds, captures, voids and reversals against the real
store and a simple in-memory model: both agree on every accept/refuse decision and every
balance, balances stay within bounds, and each currency sums to zero."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.ledger.accounts import service as account_service
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.rules import Actor
from services.ledger.currencies.service import registry
from services.ledger.database.tables import account_balances
from services.ledger.errors import LedgerDomainError
from services.ledger.holds import service as holding
from services.ledger.transactions.rules import Posting
from services.ledger.transactions.service import reversal
from services.ledger.transactions.service import single as transactions
from shared.db import make_engine, make_session_factory

LIMIT = 50
MEMBERS = 3
_codes = itertools.count(1)
PROP = Actor("prop")
"""The holder of every account here: these properties are about balances, not authority."""

account = st.integers(0, MEMBERS)  # MEMBERS is the merchant, without credit
amount = st.integers(1, 120)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("transfer"), account, account, amount),
        st.tuples(st.just("hold"), account, account, amount),
        st.tuples(st.just("capture"), st.integers(0, 9), st.none() | amount),
        st.tuples(st.just("void"), st.integers(0, 9)),
        st.tuples(st.just("reverse"), st.integers(0, 9)),
    ),
    max_size=20,
)


@dataclass
class Model:
    lower: list[int]
    posted: list[int] = field(default_factory=lambda: [0] * (MEMBERS + 1))
    held: list[int] = field(default_factory=lambda: [0] * (MEMBERS + 1))
    holds: list[dict[str, Any]] = field(default_factory=list)
    txs: list[dict[str, Any]] = field(default_factory=list)

    def can_debit(self, i: int, amt: int) -> bool:
        return self.posted[i] - self.held[i] - amt >= self.lower[i]


async def scenario(url: str, ops: list[tuple[Any, ...]]) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    factory = make_session_factory(engine)
    code = f"P{next(_codes)}"
    try:
        async with factory() as s, s.begin():
            await registry.create_currency(
                s,
                code=code,
                kind="mutual_credit",
                scale=2,
                operator="prop",
                rules={"credit_limit": {"default_limit": LIMIT, "max_limit": LIMIT}},
            )
            ids = []
            for i in range(MEMBERS + 1):
                kind = AccountType.MERCHANT if i == MEMBERS else AccountType.MEMBER
                limit = 0 if i == MEMBERS else None
                row = await account_service.open_account(
                    s,
                    currency=code,
                    account_type=kind,
                    credit_limit=limit,
                    name=f"a{i}",
                    territory=None,
                    merchant_category=None,
                    metadata={},
                    holder="prop",
                )
                ids.append(row["id"])
        model = Model(lower=[-LIMIT] * MEMBERS + [0])
        for op in ops:
            expected, apply = predict(model, op)
            try:
                async with factory() as s, s.begin():
                    result = await run(s, code, ids, model, op)
                accepted = True
            except LedgerDomainError:
                accepted = False
            assert accepted == expected, (op, model)
            if accepted:
                apply(result)
            await check(factory, ids, model)
    finally:
        await engine.dispose()


def predict(model: Model, op: tuple[Any, ...]) -> tuple[bool, Callable[[Any], None]]:
    """Whether the model accepts ``op``, and how to apply it once the store did."""
    kind = op[0]
    if kind in ("transfer", "hold"):
        _, src, dst, amt = op
        ok = src != dst and model.can_debit(src, amt)

        def apply(result: Any) -> None:
            if kind == "transfer":
                model.posted[src] -= amt
                model.posted[dst] += amt
                model.txs.append({"id": result, "legs": {src: -amt, dst: amt}, "reversed": False})
            else:
                model.held[src] += amt
                model.holds.append(
                    {"id": result, "src": src, "dst": dst, "amount": amt, "open": True}
                )

        return ok, apply
    if kind in ("capture", "void"):
        index = op[1]
        if index >= len(model.holds) or not model.holds[index]["open"]:
            return False, lambda _: None
        h = model.holds[index]
        captured = h["amount"] if kind == "void" or op[2] is None else op[2]
        ok = kind == "void" or captured <= h["amount"]

        def finish(result: Any) -> None:
            h["open"] = False
            model.held[h["src"]] -= h["amount"]
            if kind == "capture":
                model.posted[h["src"]] -= captured
                model.posted[h["dst"]] += captured
                model.txs.append(
                    {
                        "id": result,
                        "legs": {h["src"]: -captured, h["dst"]: captured},
                        "reversed": False,
                    }
                )

        return ok, finish
    index = op[1]
    if index >= len(model.txs) or model.txs[index]["reversed"]:
        return False, lambda _: None
    if model.txs[index].get("is_reversal"):
        # Undoing a reversal is the operator's act, and PROP holds the accounts but
        # operates no currency.
        return False, lambda _: None
    tx = model.txs[index]
    ok = all(model.can_debit(i, amt) for i, amt in tx["legs"].items() if amt > 0)

    def reverse(result: Any) -> None:
        tx["reversed"] = True
        for i, amt in tx["legs"].items():
            model.posted[i] -= amt
        model.txs.append(
            {
                "id": result,
                "legs": {i: -a for i, a in tx["legs"].items()},
                "reversed": False,
                "is_reversal": True,
            }
        )

    return ok, reverse


async def run(s: Any, code: str, ids: list[UUID], model: Model, op: tuple[Any, ...]) -> Any:
    kind = op[0]
    if kind == "transfer":
        _, src, dst, amt = op
        legs = [Posting(ids[src], code, -amt), Posting(ids[dst], code, amt)]
        return (await transactions.post(s, actor=PROP, legs=legs))["id"]
    if kind == "hold":
        _, src, dst, amt = op
        view = await holding.authorize_hold(
            s,
            payer=ids[src],
            payee=ids[dst],
            currency=code,
            amount=amt,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
            metadata={},
            actor=PROP,
        )
        return view["id"]
    if kind in ("capture", "void"):
        index = op[1]
        if index >= len(model.holds):
            raise LedgerDomainError("no such hold in this scenario")
        hold_id = UUID(model.holds[index]["id"])
        if kind == "void":
            return await holding.void_hold(s, hold_id=hold_id, actor=PROP)
        view = await holding.capture_hold(s, hold_id=hold_id, amount=op[2], actor=PROP)
        return view["transaction_id"]
    index = op[1]
    if index >= len(model.txs):
        raise LedgerDomainError("no such transaction in this scenario")
    original = await transactions.load_transaction(s, UUID(model.txs[index]["id"]))
    view = await reversal.reverse(
        s, original=original, actor=PROP, description="", idempotency_key=None
    )
    return view["id"]


async def check(factory: Callable[[], Any], ids: list[UUID], model: Model) -> None:
    async with factory() as s:
        rows = {
            r.account_id: r
            for r in (
                await s.execute(
                    select(account_balances).where(account_balances.c.account_id.in_(ids))
                )
            ).all()
        }
    posted = [rows[i].posted for i in ids]
    held = [rows[i].held for i in ids]
    assert posted == model.posted and held == model.held
    assert sum(posted) == 0
    assert all(p - h >= lo for p, h, lo in zip(posted, held, model.lower, strict=True))


@pytest.fixture(scope="module")
def property_db(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("ledger")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(ops=operations)
@example(ops=[("transfer", 0, 1, 1), ("reverse", 0), ("reverse", 1)])  # undoing a reversal
def test_the_store_agrees_with_the_model_and_keeps_every_invariant(
    property_db: str, ops: list[tuple[Any, ...]]
) -> None:
    asyncio.run(scenario(property_db, ops))
