"""Group commit of `POST /transactions`: requests that wait together are posted together,
in one call of the group function, each with its own answer. A refusal the function sees
against the running state (funds, the monthly load cap) stays that request's own, worded
by the one-request path; one it does not foresee (a database rule it does not know) makes
the group re-run one request per transaction, so the others are still posted and
answered. The group sizes are read from the ``/metrics`` histogram. Past its queue's bound
a process answers 503."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from services.ledger.app import create_app
from tests.integration.ledger.ledger_support import Ledger, ledger_settings, operator
from tests.integration.ledger.test_ledger_api_transactions import expect_problem
from tests.integration.ledger.test_ledger_caps import YOUTH, capped
from tests.support.apps import serve
from tests.support.tokens import bearer

SIZE = "proxima_ledger_group_commit_size"
ISOLATED = "proxima_ledger_group_commit_isolated"
ALONE = "proxima_ledger_group_commit_alone"


async def metrics(ledger: Ledger) -> dict[str, float]:
    r = await ledger.client.get("/metrics", headers=bearer(scopes=["metrics:read"]))
    assert r.status_code == 200, r.text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
        if sample.name in (f"{SIZE}_count", f"{SIZE}_sum", f"{ISOLATED}_total", f"{ALONE}_total")
    }


@asynccontextmanager
async def first_group_blocked(ledger: Ledger, account: str) -> AsyncIterator[None]:
    """Hold ``account``'s balance row from another connection while a first request takes
    the worker and waits for it, so the requests sent inside the block queue up together;
    released (and that first request answered) on leaving."""
    app: Any = ledger.client.app  # type: ignore[attr-defined]
    async with app.state.engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(
            text("SELECT 1 FROM account_balances WHERE account_id = :a FOR UPDATE"),
            {"a": account},
        )
        other = await ledger.account(YOUTH, "member")
        first = asyncio.create_task(ledger.transfer(account, other, 1, YOUTH))
        waiting = (
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        async with app.state.engine.connect() as probe:
            for _ in range(3000):  # up to 60 s: a loaded machine takes seconds to get there
                if (await probe.execute(text(waiting))).scalar_one() > 0:
                    break
                await asyncio.sleep(0.02)
            else:
                answer = first.result().text if first.done() else "no answer"
                raise AssertionError(f"the first group never waited for the lock ({answer})")
        try:
            yield
        finally:
            await transaction.rollback()
    assert (await first).status_code == 201


async def queued(ledger: Ledger, count: int) -> None:
    committer = ledger.client.app.state.group_committer  # type: ignore[attr-defined]
    for _ in range(1000):
        if committer.waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{committer.waiting} requests queued, expected {count}")


def body(source: str, dest: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "postings": [
            {"account_id": source, "currency": YOUTH, "amount": -amount},
            {"account_id": dest, "currency": YOUTH, "amount": amount},
        ],
        **extra,
    }


async def test_an_item_over_the_monthly_load_cap_is_refused_alone_in_its_group(
    ledger: Ledger,
) -> None:
    issuer, near_cap = await capped(ledger, cap=1_000)
    assert (await ledger.transfer(issuer, near_cap, 900, YOUTH)).status_code == 201
    members = [await ledger.account(YOUTH, "member") for _ in range(4)]
    before = await metrics(ledger)
    sent: list[asyncio.Task[httpx.Response]] = []

    def post(payload: dict[str, Any]) -> None:
        sent.append(
            asyncio.create_task(
                ledger.client.post("/transactions", json=payload, headers=ledger.headers)
            )
        )

    async with first_group_blocked(ledger, issuer):
        for index, member in enumerate(members):
            post(body(issuer, member, 100, idempotency_key=f"k{index}"))
        post(body(issuer, near_cap, 200))  # over the monthly load cap (the function's check)
        post(body(issuer, members[0], 100, idempotency_key="k0"))  # same key, same body
        post(body(issuer, members[1], 999, idempotency_key="k1"))  # same key, other body
        await queued(ledger, 7)
    answers = await asyncio.gather(*sent)

    for answer in answers[:4]:
        assert answer.status_code == 201, answer.text
    await expect_problem(answers[4], 409, "monthly-load-cap-exceeded")
    assert answers[5].status_code == 200
    assert answers[5].json()["id"] == answers[0].json()["id"]
    await expect_problem(answers[6], 409, "idempotency-key-reused")
    for member in members:
        assert (await ledger.balance(member))["posted"] == 100
    assert (await ledger.balance(near_cap))["posted"] == 900

    after = await metrics(ledger)
    # The first request (a group of one, counted before), then the five requests of
    # distinct keys together, then the two that repeat a key of that group.
    assert after[f"{SIZE}_count"] - before[f"{SIZE}_count"] == 3
    assert after[f"{SIZE}_sum"] - before[f"{SIZE}_sum"] == 1 + 5 + 2
    # The cap is checked item by item in the group's call: no group is re-run, the item
    # over it alone is answered by the one-request path.
    assert after[f"{ISOLATED}_total"] == before[f"{ISOLATED}_total"]
    assert after[f"{ALONE}_total"] - before[f"{ALONE}_total"] == 1


POISON = "refused by the database alone"


@asynccontextmanager
async def database_rule(ledger: Ledger) -> AsyncIterator[None]:
    """A rule only the database knows, which the group function cannot foresee: a
    transaction described as `POISON` is refused (under the monthly load cap's constraint
    name, so the one-request path words it as a cap)."""
    app: Any = ledger.client.app  # type: ignore[attr-defined]
    statements = (
        """CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'poisoned' USING ERRCODE = 'check_violation',
                CONSTRAINT = 'ck_account_monthly_loads_cap';
        END $$""",
        f"""CREATE TRIGGER tr_test_poison BEFORE INSERT ON transactions FOR EACH ROW
        WHEN (NEW.description = '{POISON}') EXECUTE FUNCTION test_poison()""",
    )
    async with app.state.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    try:
        yield
    finally:
        async with app.state.engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER tr_test_poison ON transactions"))
            await conn.execute(text("DROP FUNCTION test_poison()"))


async def test_an_item_only_the_database_refuses_leaves_the_rest_of_its_group_posted(
    ledger: Ledger,
) -> None:
    issuer, payer = await capped(ledger, cap=10**9)
    members = [await ledger.account(YOUTH, "member") for _ in range(3)]
    before = await metrics(ledger)
    async with database_rule(ledger):
        async with first_group_blocked(ledger, issuer):
            sent = [
                asyncio.create_task(
                    ledger.client.post(
                        "/transactions",
                        json=body(issuer, member, 10, idempotency_key=f"p{index}", **extra),
                        headers=ledger.headers,
                    )
                )
                for index, (member, extra) in enumerate(
                    zip(members, ({}, {"description": POISON}, {}), strict=True)
                )
            ]
            await queued(ledger, 3)
        answers = await asyncio.gather(*sent)
    assert answers[0].status_code == 201, answers[0].text
    await expect_problem(answers[1], 409, "monthly-load-cap-exceeded")
    assert answers[2].status_code == 201, answers[2].text
    assert [(await ledger.balance(m))["posted"] for m in members] == [10, 0, 10]
    after = await metrics(ledger)
    assert after[f"{SIZE}_sum"] - before[f"{SIZE}_sum"] == 1 + 3
    assert after[f"{ISOLATED}_total"] - before[f"{ISOLATED}_total"] == 1
    # Its key was given back with the rollback: the same request is refused again, not
    # replayed.
    async with database_rule(ledger):
        again = await ledger.client.post(
            "/transactions",
            json=body(issuer, members[1], 10, idempotency_key="p1", description=POISON),
            headers=ledger.headers,
        )
    await expect_problem(again, 409, "monthly-load-cap-exceeded")


async def test_an_overdraft_within_a_group_is_refused_by_the_rules_alone(ledger: Ledger) -> None:
    issuer, payer = await capped(ledger, cap=10**9)
    assert (await ledger.transfer(issuer, payer, 100, YOUTH)).status_code == 201
    shops = [await ledger.account(YOUTH, "merchant") for _ in range(3)]
    before = await metrics(ledger)
    async with first_group_blocked(ledger, issuer):
        sent = [
            asyncio.create_task(
                ledger.client.post(
                    "/transactions", json=body(payer, shop, 40), headers=ledger.headers
                )
            )
            for shop in shops
        ]
        await queued(ledger, 3)
    answers = await asyncio.gather(*sent)
    assert [a.status_code for a in answers[:2]] == [201, 201]
    await expect_problem(answers[2], 409, "insufficient-funds")
    assert (await ledger.balance(payer))["posted"] == 20
    after = await metrics(ledger)
    assert after[f"{SIZE}_sum"] - before[f"{SIZE}_sum"] == 1 + 3
    assert after[f"{ISOLATED}_total"] == before[f"{ISOLATED}_total"]


@pytest.fixture
async def small_queue(ledger_db: str, new_database: Callable[[str], str]) -> AsyncIterator[Ledger]:
    """A ledger whose process lets one request wait for a group."""
    settings = ledger_settings(ledger_db, new_database("events"), group_commit_max_queue=1)
    async with serve(create_app, settings) as client:
        helper = Ledger(client)
        await helper.currency()
        yield helper


async def test_past_its_queue_a_process_answers_503_with_retry_after(small_queue: Ledger) -> None:
    ledger = small_queue
    await ledger.currency(YOUTH, "euro_backed")
    issuer = await ledger.account(YOUTH, "issuer")
    member = await ledger.account(YOUTH, "member")
    async with first_group_blocked(ledger, issuer):
        waiting = asyncio.create_task(ledger.transfer(issuer, member, 5, YOUTH))
        await queued(ledger, 1)
        refused = await ledger.transfer(issuer, member, 7, YOUTH)
        await expect_problem(refused, 503, "posting-queue-full")
        assert refused.headers["Retry-After"] == "1"
    assert (await waiting).status_code == 201
    assert (await ledger.balance(member))["posted"] == 5
    assert (await ledger.transfer(issuer, member, 7, YOUTH)).status_code == 201


async def test_a_group_claims_its_keys_before_it_locks_a_balance_row(ledger: Ledger) -> None:
    """The group's claim and lock are in one call (`ledger_post_group`); keys still come
    first: while another transaction holds a claim on the group's key, the group waits
    without holding the payer's balance row, so no lock cycle can form with that other
    transaction (keys, then balances, the order of every posting path)."""
    issuer, payer = await capped(ledger, cap=10**9)
    shop = await ledger.account(YOUTH, "merchant")
    warm = body(issuer, payer, 100, idempotency_key="warm")
    r = await ledger.client.post("/transactions", json=warm, headers=ledger.headers)
    assert r.status_code == 201, r.text
    app: Any = ledger.client.app  # type: ignore[attr-defined]
    async with app.state.engine.connect() as holder:
        client_id = (
            await holder.execute(text("SELECT client_id FROM idempotency_keys WHERE key = 'warm'"))
        ).scalar_one()
        await holder.commit()
        claim = "INSERT INTO idempotency_keys (client_id, key, request_hash) VALUES (:c, :k, 'x')"
        await holder.execute(text(claim), {"c": client_id, "k": "held"})  # not committed
        sent = asyncio.create_task(
            ledger.client.post(
                "/transactions",
                json=body(payer, shop, 30, idempotency_key="held"),
                headers=ledger.headers,
            )
        )
        waiting = (
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        async with app.state.engine.connect() as probe:
            for _ in range(3000):
                if (await probe.execute(text(waiting))).scalar_one() > 0:
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the group never waited for the held claim")
            # The group waits on the key: the payer's balance row is free.
            await probe.rollback()
            free = await probe.execute(
                text("SELECT 1 FROM account_balances WHERE account_id = :a FOR UPDATE NOWAIT"),
                {"a": payer},
            )
            assert free.scalar_one() == 1
            await probe.rollback()
        await holder.rollback()
    answer = await sent
    assert answer.status_code == 201, answer.text
    assert (await ledger.balance(payer))["posted"] == 70


async def test_mandate_limits_and_authority_are_checked_item_by_item_in_a_group(
    ledger: Ledger,
) -> None:
    """A wallet app posting under mandates: the group function finds each debit's basis
    and counts each mandate's use in arrival order; the items it refuses get the answers
    of the one-request path (problem type and status), the others are posted."""
    issuer, payer = await capped(ledger, cap=10**9)
    other = await ledger.account(YOUTH, "member")
    shop = await ledger.account(YOUTH, "merchant")
    for account in (payer, other):
        assert (await ledger.transfer(issuer, account, 1_000, YOUTH)).status_code == 201
    mandate = {
        "grantee": "wallet",
        "may_read": False,
        "max_per_payment": 50,
        "max_per_period": 80,
        "period": "month",
        "expires_at": "2099-01-01T00:00:00Z",
    }
    r = await ledger.client.post(
        f"/accounts/{payer}/mandates", json=mandate, headers=ledger.headers
    )
    assert r.status_code == 201, r.text
    wallet = operator(YOUTH, scopes=("ledger:post",), client_id="wallet")
    before = await metrics(ledger)
    async with first_group_blocked(ledger, issuer):
        sent = [
            asyncio.create_task(
                ledger.client.post("/transactions", json=body(source, shop, amount), headers=wallet)
            )
            for source, amount in ((payer, 40), (payer, 60), (payer, 40), (payer, 10), (other, 10))
        ]
        await queued(ledger, 5)
    answers = await asyncio.gather(*sent)
    assert answers[0].status_code == 201, answers[0].text
    await expect_problem(answers[1], 403, "mandate-limit-exceeded")  # per payment
    assert answers[2].status_code == 201, answers[2].text
    await expect_problem(answers[3], 403, "mandate-limit-exceeded")  # per period
    await expect_problem(answers[4], 403, "no-debit-authority")
    assert (await ledger.balance(payer))["posted"] == 920
    assert (await ledger.balance(shop))["posted"] == 80
    after = await metrics(ledger)
    assert after[f"{SIZE}_sum"] - before[f"{SIZE}_sum"] == 1 + 5
    assert after[f"{ISOLATED}_total"] == before[f"{ISOLATED}_total"]
    assert after[f"{ALONE}_total"] - before[f"{ALONE}_total"] == 3


async def test_the_event_a_group_writes_is_the_one_the_one_request_path_writes(
    ledger: Ledger,
) -> None:
    """The function fills each template's postings in `json.dumps`' layout: the payload
    parses to the envelope `posted_rows` builds and re-encodes to the same bytes."""
    issuer, member = await capped(ledger, cap=10**9)
    r = await ledger.transfer(issuer, member, 25, YOUTH)
    assert r.status_code == 201, r.text
    tx = r.json()["id"]
    app: Any = ledger.client.app  # type: ignore[attr-defined]
    async with app.state.engine.connect() as conn:
        payload = (
            await conn.execute(text("SELECT payload FROM outbox WHERE key = :k"), {"k": tx})
        ).scalar_one()
        rows = (await conn.execute(text("SELECT id::text, type FROM accounts"))).all()
    types = {row[0]: row[1] for row in rows}
    envelope = json.loads(payload)
    assert bytes(payload) == json.dumps(envelope).encode()
    assert envelope["data"]["transaction_id"] == tx
    assert envelope["data"]["postings"] == [
        {
            "account_id": p["account_id"],
            "account_type": types[p["account_id"]],
            "territory": None,
            "amount": p["amount"],
        }
        for p in r.json()["postings"]
    ]
