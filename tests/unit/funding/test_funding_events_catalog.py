"""Every event the workflow table names is a registered payload the dashboard can decode."""

from __future__ import annotations

from services.funding.applications.rules.workflow import TRANSITIONS
from services.funding.programmes.rules.budget import BUDGET_COMMITTED_EVENT, BUDGET_RELEASED_EVENT
from services.funding.tranches.rules import (
    PAYMENT_FAILED_EVENT,
    PAYMENT_ORDERED_EVENT,
    PAYMENT_PAID_EVENT,
)
from shared.events.catalog.funding import (
    DecisionRecorded,
    GuaranteeCalled,
    InstrumentAwarded,
    InstrumentRepaid,
    PaymentPaid,
)
from shared.events.registry import TYPE_PATTERN, payload_model


def test_every_transition_event_type_is_registered() -> None:
    for transition in TRANSITIONS:
        assert payload_model(transition.event_type) is not None, transition.event_type


def test_budget_and_payment_event_types_are_registered() -> None:
    for name in (
        BUDGET_COMMITTED_EVENT,
        BUDGET_RELEASED_EVENT,
        PAYMENT_ORDERED_EVENT,
        PAYMENT_PAID_EVENT,
        PAYMENT_FAILED_EVENT,
        "proxima.funding.tranche.payable.v1",
    ):
        assert payload_model(name) is not None, name
        assert TYPE_PATTERN.match(name)


def test_dashboard_events_carry_programme_territory_and_amounts() -> None:
    for model in (
        DecisionRecorded,
        PaymentPaid,
        InstrumentAwarded,
        InstrumentRepaid,
        GuaranteeCalled,
    ):
        fields = set(model.model_fields)
        assert {"programme_code", "territory"} <= fields
        assert fields & {"amount_cents", "amount"}
