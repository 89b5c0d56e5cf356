"""The funding ↔ ledger payment saga after a restore from backups taken at different
instants, on real PostgreSQL (pg_dump / pg_restore) with the services on real Kafka.

Two grant advances are ordered while the ledger is down, funding's database is dumped
then (both tranches ``ordered``, their orders already handed to Kafka), and the ledger
comes back and pays them. The ledger's database was dumped before the orders and is
dumped again after the payments. Then the whole system is restored twice, each time with
Kafka's offsets already past every order and answer, so nothing on the bus will ever
move those tranches again:

- funding behind the ledger (funding's dump at the orders, the ledger's after the
  payments): the ledger paid, funding never heard;
- the ledger behind funding (the ledger's dump before the orders): funding ordered, the
  ledger never saw the orders.

Each time funding's reconciler asks the ledger again (same order ids, new events); the
tranches end ``paid``, each order is paid exactly once in the ledger, and funding records
the transaction the ledger holds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from shared.events.catalog.funding import PaymentOrdered
from tests.support import grant_flow
from tests.support.grant_flow import As, act, client_token, decided_in_committee
from tests.support.stack import admin_token, e2e_stack
from tests.support.sync_waiting import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# Unanswered orders are asked again 10 s after their order (long enough that none is
# asked again before funding's dump), looked for every second.
RECONCILE = {"PROXIMA_PAYMENT_RECONCILE_AFTER_S": "10", "PROXIMA_PAYMENT_RECONCILE_INTERVAL_S": "1"}


@pytest.fixture(scope="module")
def stack(
    postgres: LocalPostgres, kafka: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres,
        kafka=kafka,
        run_dir=tmp_path_factory.mktemp("saga-restore"),
        extra_env=RECONCILE,
    ) as running:
        yield running


def files_ready_to_pay(stack: Stack) -> tuple[As, As, dict[str, str], list[str]]:
    """Two applications approved, under convention and in payment, each linked to the
    applicant's account; with the admin's and the officer's views and the accounts."""
    gateway, admin_tok = stack.gateway_url, admin_token(stack.gateway_url)
    admin = As(gateway, admin_tok)
    accounts = grant_flow.ledger_setup(admin)
    grant_flow.open_programme(admin)

    def actor(client_id: str, role: str, scopes: list[str]) -> As:
        return As(gateway, client_token(gateway, admin_tok, client_id, role, scopes))

    applicant = actor(
        grant_flow.APPLICANT, "applicant", ["funding:apply", "funding:read", "ledger:post"]
    )
    instructor = actor("acc-isere", "instructor", ["funding:instruct", "funding:read"])
    committee = actor("secretariat", "committee", ["funding:decide", "funding:read"])
    officer = actor(
        "officer", "programme_officer", ["funding:instruct", "funding:read", "funding:pay"]
    )
    files = []
    for n in (1, 2):
        app_id = applicant.ok(
            "POST",
            "/funding/applications",
            201,
            json={
                "envelope_code": "IDECLIC-2026",
                "applicant_name": "SCIC Monnaie du Grésivaudan",
                "legal_form": "scic",
                "project_stage": "creation",
                "title": f"Monnaie locale, volet {n}",
                "commune_insee_code": grant_flow.COMMUNE,
                "requested_amount_cents": 1_000_000,
            },
        )["id"]
        decided_in_committee(
            app_id,
            applicant=applicant,
            instructor=instructor,
            committee=committee,
            amount_cents=1_000_000,
            deliberation=f"CP-2026-RESTORE-{n}",
        )
        act(officer, app_id, "sign_convention", convention_reference=f"CV-RESTORE-{n}")
        act(officer, app_id, "start_payment")
        link = {"programme_code": grant_flow.PROGRAMME, "application_id": app_id}
        applicant.ok("POST", f"/ledger/accounts/{accounts['project']}/grant-links", 201, json=link)
        files.append(app_id)
    return admin, officer, accounts, files


def advance(officer: As, app_id: str) -> dict[str, Any]:
    """The file's first tranche (its status ``http 503`` while funding is restarting)."""
    response = officer.http.get(f"/funding/applications/{app_id}/tranches")
    if response.status_code != 200:
        return {"status": f"http {response.status_code}"}
    return dict(min(response.json()["items"], key=lambda t: t["number"]))


def settled(officer: As, app_id: str) -> dict[str, Any]:
    return wait_until(
        lambda: advance(officer, app_id), lambda t: t["status"] == "paid", timeout=120
    )


def posted(admin: As, account: str) -> int:
    """The account's posted balance, once the ledger answers through the gateway (its
    circuit may still be open just after a restart)."""
    response = wait_until(
        lambda: admin.http.get(f"/ledger/accounts/{account}/balance"),
        lambda r: r.status_code == 200,
        timeout=60,
    )
    return int(response.json()["posted"])


def sql(stack: Stack, service: str, query: str) -> str:
    return stack.postgres.psql(query, database=f"{stack.db_prefix}_{service}").strip()


def orders_asked(stack: Stack, order_id: str) -> int:
    """Payment orders funding emitted for ``order_id`` (the first one, and each asked again)."""
    return int(
        sql(
            stack,
            "funding",
            f"SELECT count(*) FROM outbox WHERE event_type = '{PaymentOrdered.event_type}' "
            f"AND convert_from(payload, 'UTF8') LIKE '%{order_id}%'",
        )
    )


def payments_of(stack: Stack, order_id: str) -> list[str]:
    found = sql(
        stack,
        "ledger",
        "SELECT id FROM transactions WHERE kind = 'grant_payment' "
        f"AND metadata->>'order_id' = '{order_id}'",
    )
    return found.splitlines()


def restore(stack: Stack, dumps: dict[str, bytes]) -> None:
    """Stop the services and put each database back as its dump has it."""
    stack.stop_all()
    for service, dump in dumps.items():
        name = f"{stack.db_prefix}_{service}"
        stack.postgres.psql(f'DROP DATABASE "{name}" WITH (FORCE)')
        stack.postgres.restore_database(name, dump)


def test_a_half_done_payment_saga_is_finished_after_restoring_dumps_of_different_instants(
    stack: Stack,
) -> None:
    admin, officer, accounts, files = files_ready_to_pay(stack)
    ledger_before_orders = stack.postgres.dump_database(f"{stack.db_prefix}_ledger")

    stack.services["ledger"].kill()
    for app_id in files:
        officer.ok(
            "POST",
            f"/funding/tranches/{advance(officer, app_id)['id']}/payment-orders",
            json={"mode": "local_currency", "currency_code": grant_flow.CURRENCY},
        )
    tranches = [advance(officer, app_id) for app_id in files]
    assert [t["status"] for t in tranches] == ["ordered", "ordered"], tranches
    orders = [str(t["order_id"]) for t in tranches]
    # the orders are on Kafka (published from funding's outbox) before funding's dump
    wait_until(
        lambda: sql(stack, "funding", "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
        lambda n: n == "0",
        timeout=60,
    )
    funding_at_orders = stack.postgres.dump_database(f"{stack.db_prefix}_funding")
    assert [orders_asked(stack, o) for o in orders] == [1, 1]

    stack.start_service("ledger").wait_ready(90)
    for app_id in files:
        settled(officer, app_id)
    ledger_after_payments = stack.postgres.dump_database(f"{stack.db_prefix}_ledger")
    project_paid = posted(admin, accounts["project"])
    assert project_paid > 0

    timings = {}
    for case, ledger_dump in (
        ("funding behind the ledger", ledger_after_payments),
        ("ledger behind funding", ledger_before_orders),
    ):
        restore(stack, {"funding": funding_at_orders, "ledger": ledger_dump})
        ordered = "SELECT count(*) FROM tranches WHERE status = 'ordered'"
        assert sql(stack, "funding", ordered) == "2", case
        assert [orders_asked(stack, o) for o in orders] == [1, 1], case
        restored_at = time.monotonic()
        stack.start_all()
        for app_id, order_id in zip(files, orders, strict=True):
            tranche = settled(officer, app_id)
            # asked again by the reconciler: nothing on the bus would have moved it
            assert orders_asked(stack, order_id) >= 2, case
            # paid once in the ledger, and funding records that very transaction
            assert payments_of(stack, order_id) == [tranche["transaction_id"]], case
        assert posted(admin, accounts["project"]) == project_paid, case
        timings[case] = round(time.monotonic() - restored_at, 1)
    print({"saga_reconciled_after_restore_s": timings})
