"""Hypothesis drives random principals and operations against the real store (PostgreSQL,
real triggers): an account's balance only ever goes down by its holder, a mandate within
its limits, its operator, or a card presented for it; every refusal changes nothing.

A model predicts, for each debit, whether it is allowed (holder, operator, card, or the
caller's newest active mandate on the account, within its per-payment and per-period
limits) and what each balance becomes; the store must agree on every step. Afterwards every
debit leg in the database carries an authority row whose basis the model can justify.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from services.ledger.accounts import service as account_service
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.errors import MandateLimitExceeded, NoDebitAuthority
from services.ledger.authority.rules import Actor, MandatePeriod
from services.ledger.authority.service import mandates as authority
from services.ledger.currencies.service import registry
from services.ledger.errors import LedgerDomainError
from services.ledger.transactions.rules import Posting
from services.ledger.transactions.service import single as transactions
from shared.db import make_engine, make_session_factory

MEMBERS = 4
LIMIT = 100_000  # every member's credit line: balances never block a debit the model allows
PER_PAYMENT = 30
PER_PERIOD = 70
HOLDERS = [f"app-{i}" for i in range(MEMBERS)]
STRANGER = "stranger"
OPERATOR = "operator"
PRINCIPALS = [*HOLDERS, STRANGER, OPERATOR]
_codes = itertools.count(1)

principal = st.sampled_from(PRINCIPALS)
member = st.integers(0, MEMBERS - 1)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("debit"), principal, member, member, st.integers(1, 45)),
        st.tuples(st.just("card"), principal, member, member, st.integers(1, 45)),
        st.tuples(st.just("mandate"), member, principal),
        st.tuples(st.just("revoke"), member, principal),
    ),
    max_size=30,
)


@dataclass
class Model:
    balances: list[int] = field(default_factory=lambda: [0] * MEMBERS)
    # (account, grantee) -> [mandate id, used this period]; only active mandates
    mandates: dict[tuple[int, str], list[Any]] = field(default_factory=dict)

    def actor(self, who: str, code: str) -> Actor:
        return Actor(who, frozenset({code}) if who == OPERATOR else frozenset())

    def allows(self, who: str, src: int, amount: int, *, card: bool) -> type[Exception] | None:
        """None if the debit is allowed, else the refusal the store must give."""
        if card or who == OPERATOR or who == HOLDERS[src]:
            return None
        mandate = self.mandates.get((src, who))
        if mandate is None:
            return NoDebitAuthority
        if amount > PER_PAYMENT or mandate[1] + amount > PER_PERIOD:
            return MandateLimitExceeded
        return None


async def scenario(url: str, ops: list[tuple[Any, ...]]) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    factory = make_session_factory(engine)
    code = f"AUT{next(_codes)}"
    try:
        async with factory() as s, s.begin():
            await registry.create_currency(
                s,
                code=code,
                kind="mutual_credit",
                scale=2,
                operator=OPERATOR,
                rules={"credit_limit": {"default_limit": LIMIT, "max_limit": LIMIT}},
            )
            accounts = []
            for i in range(MEMBERS):
                row = await account_service.open_account(
                    s,
                    currency=code,
                    account_type=AccountType.MEMBER,
                    credit_limit=None,
                    holder=HOLDERS[i],
                    name=f"m{i}",
                    territory=None,
                    merchant_category=None,
                    metadata={},
                )
                accounts.append(row)
        model = Model()
        for op in ops:
            await step(factory, code, accounts, model, op)
            await check_balances(factory, accounts, model)
        await check_authority_rows(factory, accounts, model)
    finally:
        await engine.dispose()


async def step(
    factory: Callable[[], Any], code: str, accounts: list[Any], model: Model, op: tuple[Any, ...]
) -> None:
    kind = op[0]
    if kind == "mandate":
        _, account, grantee = op
        if grantee == HOLDERS[account] or (account, grantee) in model.mandates:
            return
        async with factory() as s, s.begin():
            row = await authority.grant_mandate(
                s,
                Actor(HOLDERS[account]),  # the holder grants it
                accounts[account],
                grantee=grantee,
                may_debit=True,
                may_read=False,
                max_per_payment=PER_PAYMENT,
                max_per_period=PER_PERIOD,
                period=MandatePeriod.YEAR,
                expires_at=datetime.now(UTC) + timedelta(days=1),
                purpose="",
            )
        model.mandates[(account, grantee)] = [row["id"], 0]
        return
    if kind == "revoke":
        _, account, grantee = op
        mandate = model.mandates.pop((account, grantee), None)
        if mandate is None:
            return
        async with factory() as s, s.begin():
            await authority.revoke_mandate(
                s, Actor(OPERATOR, frozenset({code})), accounts[account], mandate[0]
            )
        return
    _, who, src, dst, amount = op
    if src == dst:
        return
    card = kind == "card"
    refusal = model.allows(who, src, amount, card=card)
    actor = model.actor(who, code)
    if card:
        actor = actor.with_card(accounts[src]["id"])
    legs = [
        Posting(accounts[src]["id"], code, -amount),
        Posting(accounts[dst]["id"], code, amount),
    ]
    try:
        async with factory() as s, s.begin():
            await transactions.post(s, actor=actor, legs=legs)
    except LedgerDomainError as exc:
        assert refusal is not None and isinstance(exc, refusal), (op, model, exc)
        return
    assert refusal is None, (op, model)
    model.balances[src] -= amount
    model.balances[dst] += amount
    mandate = model.mandates.get((src, who))
    if not card and who not in (OPERATOR, HOLDERS[src]) and mandate is not None:
        mandate[1] += amount


async def check_balances(factory: Callable[[], Any], accounts: list[Any], model: Model) -> None:
    async with factory() as s:
        rows = dict(
            (
                await s.execute(
                    text(
                        "SELECT account_id, posted FROM account_balances "
                        "WHERE account_id = ANY(CAST(:ids AS uuid[]))"
                    ),
                    {"ids": [str(a["id"]) for a in accounts]},
                )
            ).all()
        )
    assert [rows[a["id"]] for a in accounts] == model.balances


async def check_authority_rows(
    factory: Callable[[], Any], accounts: list[Any], model: Model
) -> None:
    """Every debit leg has exactly one authority row of its amount, on a basis that holds:
    its account's holder, the operator, a card, or a mandate of that principal on it."""
    holder_of = {a["id"]: a["holder"] for a in accounts}
    async with factory() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT p.account_id, -p.amount AS debit, pa.basis, pa.principal,"
                    " pa.amount, m.grantee, m.account_id AS mandated"
                    " FROM postings p"
                    " LEFT JOIN posting_authorities pa"
                    "   ON pa.transaction_id = p.transaction_id AND pa.account_id = p.account_id"
                    " LEFT JOIN account_mandates m ON m.id = pa.mandate_id"
                    " WHERE p.amount < 0 AND p.account_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": [str(a) for a in holder_of]},
            )
        ).all()
    for row in rows:
        assert row.amount == row.debit, row
        if row.basis == "holder":
            assert row.principal == holder_of[row.account_id], row
        elif row.basis == "operator":
            assert row.principal == OPERATOR, row
        elif row.basis == "mandate":
            assert (row.grantee, row.mandated) == (row.principal, row.account_id), row
        else:
            assert row.basis == "card", row


@pytest.fixture(scope="module")
def authority_db(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("ledger")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(ops=operations)
def test_money_leaves_an_account_only_with_authority(
    authority_db: str, ops: list[tuple[Any, ...]]
) -> None:
    asyncio.run(scenario(authority_db, ops))


def test_the_database_refuses_a_debit_without_its_authority_row(authority_db: str) -> None:
    """Defence in depth: a posting path that forgot the check cannot commit a debit."""

    async def run() -> None:
        engine = make_engine(authority_db, pool_size=1, max_overflow=0)
        factory = make_session_factory(engine)
        code = f"AUT{next(_codes)}"
        try:
            async with factory() as s, s.begin():
                await registry.create_currency(
                    s,
                    code=code,
                    kind="mutual_credit",
                    scale=2,
                    operator=OPERATOR,
                    rules={"credit_limit": {"default_limit": LIMIT, "max_limit": LIMIT}},
                )
                ids: list[UUID] = []
                for i in range(2):
                    row = await account_service.open_account(
                        s,
                        currency=code,
                        account_type=AccountType.MEMBER,
                        credit_limit=None,
                        holder=HOLDERS[i],
                        name="",
                        territory=None,
                        merchant_category=None,
                        metadata={},
                    )
                    ids.append(row["id"])
            with pytest.raises(Exception, match="has no authority row"):
                async with engine.begin() as conn:
                    tx = "00000000-0000-7000-8000-000000000001"
                    await conn.execute(
                        text(
                            "INSERT INTO transactions (id, kind, effective_date, client_id)"
                            " VALUES (:id, 'transfer', current_date, 'rogue')"
                        ),
                        {"id": tx},
                    )
                    for account, amount in ((ids[0], -5), (ids[1], 5)):
                        await conn.execute(
                            text(
                                "INSERT INTO postings (transaction_id, account_id, currency,"
                                " amount) VALUES (:tx, :a, :c, :m)"
                            ),
                            {"tx": tx, "a": str(account), "c": code, "m": amount},
                        )
            async with engine.connect() as conn:
                left = (
                    await conn.execute(
                        text("SELECT count(*) FROM postings WHERE account_id = :a"),
                        {"a": str(ids[0])},
                    )
                ).scalar()
            assert left == 0
        finally:
            await engine.dispose()

    asyncio.run(run())
