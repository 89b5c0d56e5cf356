"""Who may publish what: the source-owns-topic rule consumers apply, the dead-letter topics'
owners, and the Kafka ACLs generated from the registry and the services' subscriptions."""

from __future__ import annotations

import pytest

from deploy.kafka_acls import AclRule, acl_plan
from shared.events.catalog.funding import PaymentOrdered
from shared.events.catalog.ledger import PaymentSettled
from shared.events.consumer import Subscription
from shared.events.envelope import Event, new_event
from shared.events.registry import dead_letter_topic, topic_owner
from shared.events.transports.base import Record
from shared.events.trust import untrusted_reason

ORDER = PaymentOrdered(
    order_id="o-1",
    application_id="a-1",
    tranche_id="t-1",
    programme_code="IDECLIC",
    currency="GONETTE",
    amount=2_500,
)


def delivered(event: Event, topic: str = "proxima.funding.payment", **kw: object) -> Record:
    return Record(topic=topic, partition=0, offset=1, key="k", value=b"", **kw)  # type: ignore[arg-type]


def test_an_event_from_the_topics_owner_is_trusted() -> None:
    event = new_event(ORDER, source="/proxima/funding", subject="a-1")
    assert untrusted_reason(event, delivered(event)) is None  # Kafka: the broker checked
    assert untrusted_reason(event, delivered(event, producer="funding")) is None  # embedded


@pytest.mark.parametrize(
    ("source", "topic", "producer", "reason"),
    [
        (
            "/proxima/diagnostics",
            "proxima.funding.payment",
            None,
            "untrusted source: /proxima/diagnostics does not own proxima.funding.payment",
        ),
        ("/funding", "proxima.funding.payment", None, "untrusted source: /funding"),
        (
            "/proxima/funding",
            "proxima.funding.payment",
            "diagnostics",
            "untrusted producer: diagnostics wrote to proxima.funding.payment, "
            "which belongs to funding",
        ),
        (
            "/proxima/funding",
            "proxima.funding.payment",
            "",
            "untrusted producer: an unnamed producer wrote to proxima.funding.payment",
        ),
        (
            "/proxima/funding",
            "proxima.funding.budget",
            None,
            "untrusted type: proxima.funding.payment.ordered.v1 does not belong on "
            "proxima.funding.budget",
        ),
        ("/proxima/funding", "payments", None, "untrusted topic: payments belongs to no service"),
    ],
)
def test_an_event_whose_producer_does_not_own_the_topic_is_untrusted(
    source: str, topic: str, producer: str | None, reason: str
) -> None:
    event = new_event(ORDER, source=source, subject="a-1")
    found = untrusted_reason(event, delivered(event, topic, producer=producer))
    assert found is not None and found.startswith(reason), found


def test_an_owner_cannot_publish_another_services_type_on_its_topic() -> None:
    answer = PaymentSettled(order_id="o-1", status="settled")
    event = new_event(answer, source="/proxima/funding", subject="o-1")  # ledger's type
    reason = untrusted_reason(event, delivered(event, producer="funding"))
    assert reason is not None and reason.startswith("untrusted type")


def test_dead_letter_topics_belong_to_the_consumer_that_writes_them() -> None:
    dlq = dead_letter_topic("ledger", "proxima.funding.payment")
    assert dlq == "proxima.ledger.dlq.funding.payment"
    assert topic_owner(dlq) == "ledger"
    assert topic_owner("proxima.funding.payment") == "funding"


def _rules(plan: list[AclRule], principal: str) -> dict[tuple[str, str, str], set[str]]:
    """(resource, pattern, name) -> operations, for one principal."""
    out: dict[tuple[str, str, str], set[str]] = {}
    for rule in plan:
        if rule.principal == principal:
            for name in rule.names:
                out.setdefault((rule.resource, rule.pattern, name), set()).update(rule.operations)
    return out


def test_each_service_writes_and_creates_only_under_its_own_prefix() -> None:
    plan = acl_plan()
    for service in ("ledger", "funding", "diagnostics", "gateway"):
        rules = _rules(plan, service)
        writable = {key for key, ops in rules.items() if {"Write", "Create"} & ops}
        assert writable == {("topic", "prefixed", f"proxima.{service}.")}, (service, writable)
    assert {r.principal for r in plan} == {"ledger", "funding", "diagnostics", "gateway"}


def test_each_service_reads_exactly_what_it_consumes_and_its_own_groups() -> None:
    plan = acl_plan()
    reads = {
        service: {
            name
            for (resource, _, name), ops in _rules(plan, service).items()
            if resource == "topic" and "Read" in ops
        }
        for service in ("ledger", "funding", "diagnostics", "gateway")
    }
    # every service that checks the gateway's tokens follows its client and key events
    tokens = {"proxima.gateway.client", "proxima.gateway.signing_key"}
    assert reads["ledger"] == {"proxima.funding.payment"} | tokens
    assert reads["funding"] == {"proxima.ledger.payment"} | tokens
    assert (
        reads["diagnostics"]
        == {
            "proxima.ledger.transaction",
            "proxima.funding.budget",
            "proxima.funding.instrument",  # the instruments' figures of each département
            "proxima.funding.payment",
        }
        | tokens
    )
    assert "proxima.ledger.payment" not in reads["gateway"]
    assert _rules(plan, "gateway")[("group", "prefixed", "gateway")] == {"Read", "Describe"}


def test_a_subscription_the_acls_cannot_cover_is_refused() -> None:
    async def handle(*_: object) -> None: ...

    outside = Subscription(group="analytics", handlers={PaymentOrdered.event_type: handle})
    with pytest.raises(ValueError, match="does not start with 'ledger'"):
        acl_plan({"ledger": [outside]})
