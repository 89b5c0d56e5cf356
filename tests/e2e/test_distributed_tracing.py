"""Distributed tracing across the real stack on Kafka: the four services run as processes
exporting their spans over OTLP/HTTP to a receiver of the test's own, and one grant
payment, ordered through the gateway with the caller's ``traceparent``, is ONE trace from
the funding request to the ledger's posting and the dashboard stream's event: spans from
the gateway, funding, the ledger and diagnostics, every one a descendant of the caller's,
across the gateway's proxy hop and, through the outbox, the CloudEvents envelope on Kafka.
A transfer posted through group commit is traced too: the group's span links the request's
span, and the event it records carries the request's trace."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from shared.events.catalog.funding import PaymentOrdered
from shared.events.catalog.ledger import PaymentSettled, TransactionPosted
from tests.support import grant_flow
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan, otlp_receiver
from tests.support.stack import ADMIN_SECRET, e2e_stack
from tests.support.sync_waiting import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SERVICES = {"gateway", "funding", "ledger", "diagnostics"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def stack(
    postgres: LocalPostgres,
    kafka: Any,
    receiver: OtlpReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres,
        kafka=kafka,
        run_dir=tmp_path_factory.mktemp("tracing"),
        extra_env={"PROXIMA_OTLP_ENDPOINT": receiver.url},
    ) as running:
        yield running


def _caller_traceparent() -> tuple[str, str, str]:
    """(trace id, span id, header) of a sampled caller span the test stands for."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


def _trace(receiver: OtlpReceiver, trace_id: str) -> list[ReceivedSpan]:
    return [s for s in receiver.spans() if s.trace_id == trace_id]


def _has(spans: list[ReceivedSpan], service: str, kind: str, name: str) -> bool:
    return any(s.service == service and s.kind == kind and s.name == name for s in spans)


def test_one_grant_payment_is_one_trace_across_four_processes(
    stack: Stack, receiver: OtlpReceiver
) -> None:
    gateway = stack.gateway_url
    admin_token = grant_flow.token(gateway, "admin", ADMIN_SECRET)
    admin = grant_flow.As(gateway, admin_token)
    accounts = grant_flow.ledger_setup(admin)
    app_id, applicant, officer = grant_flow.approved_application(gateway, admin_token, admin)
    link = {"programme_code": grant_flow.PROGRAMME, "application_id": app_id}
    applicant.ok("POST", f"/ledger/accounts/{accounts['project']}/grant-links", 201, json=link)

    trace_id, root_span, traceparent = _caller_traceparent()
    tranche = grant_flow.pay_first_tranche(officer, app_id, headers={"traceparent": traceparent})
    assert tranche["status"] == "paid", tranche

    ordered = f"{PaymentOrdered.event_type} process"
    posted = f"{TransactionPosted.event_type} process"
    settled = f"{PaymentSettled.event_type} process"
    expected = [
        ("gateway", "SPAN_KIND_SERVER", "POST /api/{service}/{path:path}"),
        ("gateway", "SPAN_KIND_CLIENT", "POST"),  # the proxy hop
        ("funding", "SPAN_KIND_SERVER", "POST /tranches/{tranche_id}/payment-orders"),
        ("funding", "SPAN_KIND_PRODUCER", f"{PaymentOrdered.event_type} publish"),
        ("ledger", "SPAN_KIND_CONSUMER", ordered),  # the posting, under the ledger's consumer
        ("ledger", "SPAN_KIND_PRODUCER", f"{TransactionPosted.event_type} publish"),
        ("diagnostics", "SPAN_KIND_CONSUMER", posted),
        ("gateway", "SPAN_KIND_CONSUMER", posted),  # the dashboard stream's event
        ("funding", "SPAN_KIND_CONSUMER", settled),  # funding records the tranche paid
    ]

    def complete(spans: list[ReceivedSpan]) -> bool:
        return all(_has(spans, *wanted) for wanted in expected)

    spans = wait_until(lambda: _trace(receiver, trace_id), complete, timeout=120)
    missing = [wanted for wanted in expected if not _has(spans, *wanted)]
    assert not missing, (missing, sorted({(s.service, s.kind, s.name) for s in spans}))
    assert {s.service for s in spans} >= SERVICES

    # ONE trace: every span hangs from the caller's span through spans of the same trace
    ids = {s.span_id for s in spans} | {root_span}
    orphans = [s for s in spans if s.parent_span_id not in ids]
    assert not orphans, orphans
    # the database work is in it too, as transactions and statements
    assert any(s.service == "ledger" and s.name == "db transaction" for s in spans)
    # the funding request's span is the child of the gateway's hop, not of the caller
    hop = {s.span_id for s in spans if s.service == "gateway" and s.kind == "SPAN_KIND_CLIENT"}
    funding_request = next(
        s for s in spans if s.service == "funding" and s.kind == "SPAN_KIND_SERVER"
    )
    assert funding_request.parent_span_id in hop


def test_group_commit_links_the_request_whose_event_keeps_its_trace(
    stack: Stack, receiver: OtlpReceiver
) -> None:
    gateway = stack.gateway_url
    admin = grant_flow.As(gateway, grant_flow.token(gateway, "admin", ADMIN_SECRET))
    currency = "TRACE"
    admin.ok(
        "POST",
        "/ledger/currencies",
        201,
        json={
            "code": currency,
            "kind": "mutual_credit",
            "operator": "Réseau de test",
            "rules": {"credit_limit": {"default_limit": 100_000, "max_limit": 100_000}},
        },
    )
    payer, payee = (
        admin.ok(
            "POST",
            "/ledger/accounts",
            201,
            json={"currency": currency, "type": "member", "territory": "38185", **extra},
        )["id"]
        for extra in ({"credit_limit": 100_000}, {})
    )
    trace_id, _, traceparent = _caller_traceparent()
    admin.ok(
        "POST",
        "/ledger/transactions",
        201,
        json={
            "kind": "transfer",
            "idempotency_key": "traced-1",
            "postings": [
                {"account_id": payer, "currency": currency, "amount": -500},
                {"account_id": payee, "currency": currency, "amount": 500},
            ],
        },
        headers={"traceparent": traceparent},
    )
    posted = f"{TransactionPosted.event_type} process"

    def seen() -> tuple[list[ReceivedSpan], list[ReceivedSpan]]:
        spans = receiver.spans()
        return [s for s in spans if s.trace_id == trace_id], [
            s for s in spans if s.name == "ledger group commit"
        ]

    def complete(found: tuple[list[ReceivedSpan], list[ReceivedSpan]]) -> bool:
        traced, groups = found
        request_spans = {s.span_id for s in traced if s.service == "ledger"}
        return _has(traced, "diagnostics", "SPAN_KIND_CONSUMER", posted) and any(
            (trace_id, span_id) in group.links for group in groups for span_id in request_spans
        )

    traced, groups = wait_until(seen, complete, timeout=90)
    assert _has(traced, "diagnostics", "SPAN_KIND_CONSUMER", posted), traced
    ledger_request = {
        s.span_id for s in traced if s.service == "ledger" and s.kind == "SPAN_KIND_SERVER"
    }
    linking = [g for g in groups if any((trace_id, sid) in g.links for sid in ledger_request)]
    assert linking, groups
    assert all(g.trace_id != trace_id for g in linking)  # its own trace, linked
