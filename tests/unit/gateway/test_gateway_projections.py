"""What the dashboard keeps of each event, and how the summary folds it."""

from datetime import date

from services.gateway.dashboard.rules import state_update, summarize
from services.gateway.stream.rules import project, streamed_types
from shared.events.catalog.diagnostics import AggregateUpdated
from shared.events.catalog.funding import (
    APPLICATION_EVENTS,
    BudgetCommitted,
    BudgetReleased,
    PaymentOrdered,
)
from shared.events.catalog.ledger import PostedLeg, TransactionPosted
from shared.events.envelope import new_event


def _event(payload):
    return new_event(payload, source="/tests", subject="s")


def _transaction(*legs: tuple[str | None, int]) -> TransactionPosted:
    return TransactionPosted(
        transaction_id="tx-1",
        currency="MESURE",
        kind="transfer",
        effective_date=date(2026, 11, 27),
        postings=[
            PostedLeg(account_id=f"acc-{i}", account_type="member", territory=t, amount=a)
            for i, (t, a) in enumerate(legs)
        ],
    )


def test_aggregates_transactions_payments_and_application_steps_are_streamed():
    streamed = set(streamed_types())
    assert {
        "proxima.diagnostics.aggregate.updated.v1",
        "proxima.ledger.transaction.posted.v1",
        "proxima.funding.payment.ordered.v1",
    } <= streamed
    assert any(t.startswith("proxima.funding.application.") for t in streamed)
    assert "proxima.platform.probe.emitted.v1" not in streamed


def test_budget_movements_are_signed_commitments_in_euros():
    committed = BudgetCommitted(
        envelope_id="e",
        envelope_code="ENV-2026",
        programme_code="CAE",
        year=2026,
        territory="38",
        application_id="a-1",
        amount_cents=50_000,
        committed_cents=50_000,
        ap_cents=1_000_000,
    )
    released = BudgetReleased(**{**committed.model_dump(), "amount_cents": 20_000})
    updates = [state_update(project(_event(e))[0]) for e in (committed, released)]
    assert [(u.kind, u.amount) for u in updates] == [
        ("committed", 50_000),  # type: ignore[union-attr]
        ("committed", -20_000),
    ]
    assert updates[0].tags.currency == "EUR" and updates[0].tags.programme == "CAE"  # type: ignore[union-attr]


def test_an_application_step_keeps_no_actor():
    step = APPLICATION_EVENTS["proxima.funding.application.submitted.v1"](
        application_id="a-1",
        programme_code="CAE",
        envelope_code="ENV",
        territory="38",
        action="submit",
        from_state="draft",
        to_state="submitted",
        actor="jane@example",
        actor_role="applicant",
    )
    (row,) = project(_event(step))
    assert row.data == {
        "application_id": "a-1",
        "from_state": "draft",
        "to_state": "submitted",
        "verb": "submitted",
    }
    assert state_update(row) is None


def test_a_transaction_inside_one_territory_is_one_row_with_its_volume():
    (row,) = project(_event(_transaction(("38185", -500), ("38185", 500))))
    assert row.tags.territory == "38185" and row.tags.currency == "MESURE"
    assert row.data["amount"] == 500


def test_a_transaction_across_territories_is_one_row_per_territory():
    rows = project(_event(_transaction(("38185", -500), ("69123", 500))))
    assert [(r.tags.territory, r.data["amount"]) for r in rows] == [("38185", 500), ("69123", 500)]


def test_account_ids_never_reach_the_stream():
    (row,) = project(_event(_transaction(("38185", -500), ("38185", 500))))
    assert "acc-0" not in str(row.data)


def test_issuance_from_an_untagged_system_account_counts_in_the_member_territory():
    (row,) = project(_event(_transaction((None, -1000), ("38185", 1000))))
    assert row.tags.territory == "38185" and row.data["amount"] == 1000


def test_a_payment_is_tagged_with_its_programme():
    payment = PaymentOrdered(
        order_id="o",
        application_id="a",
        tranche_id="t",
        programme_code="IDECLIC",
        territory="38185",
        currency="EUR",
        amount=120_000,
        beneficiary_account_id="b",
        funding_account_id="f",
    )
    (row,) = project(_event(payment))
    tags = row.tags
    assert (tags.programme, tags.currency, tags.territory) == ("IDECLIC", "EUR", "38185")
    update = state_update(row)
    assert update is not None and (update.kind, update.mode) == ("ordered", "add")


def test_an_overlong_territory_code_is_clipped_rather_than_dead_lettered():
    aggregate = AggregateUpdated(
        territory="x" * 300, metric="velocity", period="2026-11", value=1.0, unit="ratio"
    )
    (row,) = project(_event(aggregate))
    assert len(row.tags.territory or "") == 100


def test_the_summary_keeps_latest_aggregates_and_groups_engine_shares():
    rows = [
        {
            "kind": "aggregate",
            "territory": "38185",
            "currency": "MESURE",
            "metric": "currency_volume",
            "value": 10.0,
            "unit": "EUR",
            "period": "2026-11",
            "programme": None,
            "amount": 0,
            "count": 2,
        },
        {
            "kind": "aggregate",
            "territory": "38185",
            "currency": None,
            "metric": "share_productive",
            "value": 0.25,
            "unit": "ratio",
            "period": "2026",
            "programme": None,
            "amount": 0,
            "count": 1,
        },
        {
            "kind": "paid",
            "territory": "38185",
            "currency": "EUR",
            "programme": "CAE",
            "metric": None,
            "value": None,
            "unit": None,
            "period": None,
            "amount": 300,
            "count": 2,
        },
        {
            "kind": "paid",
            "territory": "69123",
            "currency": "EUR",
            "programme": "CAE",
            "metric": None,
            "value": None,
            "unit": None,
            "period": None,
            "amount": 200,
            "count": 1,
        },
        {
            "kind": "ordered",
            "territory": "69123",
            "currency": "EUR",
            "programme": "CAE",
            "metric": None,
            "value": None,
            "unit": None,
            "period": None,
            "amount": 700,
            "count": 3,
        },
        {
            "kind": "committed",
            "territory": "69123",
            "currency": "EUR",
            "programme": "CAE",
            "metric": None,
            "value": None,
            "unit": None,
            "period": None,
            "amount": 1000,
            "count": 1,
        },
    ]
    summary = summarize(rows)
    assert summary["territories"] == [
        {
            "territory": "38185",
            "currency": "MESURE",
            "metrics": {"currency_volume": {"value": 10.0, "unit": "EUR", "period": "2026-11"}},
        }
    ]
    assert summary["engine_shares"] == [{"territory": "38185", "shares": {"productive": 0.25}}]
    assert summary["programmes"] == [
        {
            "programme": "CAE",
            "currency": "EUR",
            "committed": 1000,
            "ordered": 700,
            "paid": 500,
            "payments": 3,
        }
    ]


def test_instrument_figures_are_territory_metrics_laid_out_as_their_own_section():
    from shared.events.catalog.funding import InstrumentFigures

    assert "proxima.funding.instrument.figures.v1" in streamed_types()
    figures = InstrumentFigures(
        territory="38",
        as_of="2026-12-07",
        instruments=2,
        public_cents=3_900_000,
        bank_loans_cents=8_400_000,
        due_cents=0,
        repaid_cents=0,
        losses_cents=750_000,
        leverage=2.1538,
        repayment_rate=None,  # nothing fell due: no rate, no row
    )
    [row] = project(_event(figures))
    assert (row.tags.territory, row.tags.currency, row.tags.programme) == ("38", "EUR", None)
    assert row.data == {
        "metric": "instruments_leverage",
        "period": "2026-12-07",
        "value": 2.1538,
        "unit": "ratio",
    }
    update = state_update(row)
    assert update is not None
    assert (update.kind, update.mode, update.key) == (
        "aggregate",
        "replace",
        "aggregate|38|EUR|instruments_leverage",
    )
    later = figures.model_copy(update={"as_of": "2026-12-08", "repayment_rate": 0.75})
    rows = [
        {
            "kind": "aggregate",
            "territory": r.tags.territory,
            "currency": r.tags.currency,
            "programme": None,
            "metric": r.data["metric"],
            "value": r.data["value"],
            "unit": r.data["unit"],
            "period": r.data["period"],
            "amount": 0,
            "count": 1,
        }
        for r in project(_event(later))
    ]
    summary = summarize(rows)
    assert summary["instruments"] == [
        {"territory": "38", "leverage": 2.1538, "repayment_rate": 0.75, "as_of": "2026-12-08"}
    ]
    assert summary["territories"] == []  # not shown as a currency's metrics
