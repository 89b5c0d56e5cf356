"""A repayable advance through the gateway, on real Kafka: the committee awards it with its
terms, the ledger disburses its principal in local currency under the operator's mandate
(the grants' payment saga), the project repays part, falls behind, is rescheduled with a
reason and repays the rest (its first instalment collected by the ledger as a direct
debit under the project's mandate to the programme's collection of repayments); a
guaranteed bank loan of another file defaults and the guarantee pays its share up to its
cap; the instruments' report shows the leverage, the repayment rate and the losses that
the API's own figures add up to, and the dashboard summary the same leverage and rate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support import grant_flow
from tests.support.stack import admin_token, e2e_stack, role_token

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ADVANCE = {
    "kind": "repayable_advance",
    "start_on": "2025-01-10",
    "instalments": 3,
    "frequency": "quarterly",
    "deferral_months": 3,
    "bank_name": "Crédit Coopératif",
    "bank_loan_cents": 6_000_000,
}


@pytest.fixture(scope="module")
def stack(
    postgres: LocalPostgres, kafka: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=kafka, run_dir=tmp_path_factory.mktemp("advance")
    ) as running:
        yield running


def test_an_advance_is_disbursed_by_the_ledger_repaid_late_rescheduled_and_repaid(
    stack: Stack,
) -> None:
    gw = stack.gateway_url
    admin_tok = admin_token(gw)
    admin = grant_flow.As(gw, admin_tok)
    accounts = grant_flow.ledger_setup(admin)
    app_id, applicant, officer = grant_flow.approved_application(
        gw, admin_tok, admin, instrument=ADVANCE
    )
    link = {"programme_code": grant_flow.PROGRAMME, "application_id": app_id}
    applicant.ok("POST", f"/ledger/accounts/{accounts['project']}/grant-links", 201, json=link)

    instrument = officer.ok("GET", f"/funding/applications/{app_id}/instrument")
    assert (instrument["state"], instrument["amount_cents"]) == ("awaiting_disbursement", 3_000_000)
    tranche = grant_flow.pay_first_tranche(officer, app_id)
    assert (tranche["status"], tranche["amount_cents"]) == ("paid", 3_000_000), tranche
    balance = admin.ok("GET", f"/ledger/accounts/{accounts['project']}/balance")
    assert balance["posted"] == tranche["paid_units"]  # the principal reached the project

    base = f"/funding/instruments/{instrument['id']}"
    [v1] = officer.ok("GET", f"{base}/schedules")["items"]
    assert [(i["due_on"], i["amount_cents"]) for i in v1["instalments"]] == [
        ("2025-07-10", 1_000_000),
        ("2025-10-10", 1_000_000),
        ("2026-01-10", 1_000_000),
    ]
    direct_debit = {
        "grantee": f"repayments:{grant_flow.PROGRAMME}",
        "may_read": False,
        "max_per_payment": 1_000_000,
        "max_per_period": 3_000_000,
        "period": "year",
        "expires_at": "2099-01-01T00:00:00Z",
        "purpose": "Prélèvement des échéances de l'avance remboursable",
    }
    applicant.ok("POST", f"/ledger/accounts/{accounts['project']}/mandates", 201, json=direct_debit)
    repayment = {
        "amount_cents": 1_000_000,
        "received_on": "2025-07-10",
        "reference": "PRLV-1",
        "currency_code": grant_flow.CURRENCY,
    }
    ordered = officer.ok("POST", f"{base}/repayments", 201, json=repayment)
    assert ordered["status"] == "ordered"
    collected = _until(
        lambda: officer.ok("GET", f"{base}/repayments")["items"][0],
        lambda r: r["status"] != "ordered",
    )
    assert collected["status"] == "settled", collected
    after = admin.ok("GET", f"/ledger/accounts/{accounts['project']}/balance")
    assert after["posted"] == balance["posted"] - collected["paid_units"]
    tx = admin.ok("GET", f"/ledger/transactions/{collected['transaction_id']}")
    assert tx["kind"] == "loan_repayment"
    late = officer.ok("GET", f"{base}/position", params={"as_of": "2025-11-09"})
    assert (late["state"], late["arrears_cents"], late["days_in_arrears"]) == (
        "in_arrears",
        1_000_000,
        30,
    )

    reason = "Saison touristique décalée : trésorerie tendue"
    body = {"reason": reason, "start_on": "2025-11-15", "instalments": 4, "frequency": "monthly"}
    v2 = officer.ok("POST", f"{base}/schedules", 201, json=body)
    assert (v2["version"], v2["reason"], v2["base_repaid_cents"]) == (2, reason, 1_000_000)
    assert sum(i["amount_cents"] for i in v2["instalments"]) == 2_000_000
    for instalment in v2["instalments"]:
        paid = {"amount_cents": instalment["amount_cents"], "received_on": instalment["due_on"]}
        officer.ok("POST", f"{base}/repayments", 201, json=paid)
    done = officer.ok("GET", f"{base}/position")
    assert (done["state"], done["owed_cents"], done["repaid_cents"]) == ("repaid", 0, 3_000_000)

    repaid = sum(r["amount_cents"] for r in officer.ok("GET", f"{base}/repayments")["items"])
    [row] = admin.ok("GET", "/funding/instruments/report", params={"territory": "38"})["items"]
    assert (row["kind"], row["year"]) == ("repayable_advance", datetime.now(UTC).year)
    assert (row["disbursed_cents"], row["repaid_cents"]) == (tranche["amount_cents"], repaid)
    assert row["leverage"] == ADVANCE["bank_loan_cents"] / tranche["amount_cents"]
    assert row["repayment_rate"] == 1.0
    guarantee = _guarantee_called(gw, admin_tok, applicant, officer)
    paged = admin.ok("GET", "/funding/instruments/report", params={"territory": "38"})
    report = paged["items"]
    assert paged["next_cursor"] is None
    [row] = [r for r in report if r["kind"] == "guarantee"]
    assert (row["amount_cents"], row["bank_loans_cents"]) == (900_000, 2_400_000)
    assert row["losses_cents"] == guarantee["paid_cents"] == 750_000  # 50 % of 15,000 €
    assert row["leverage"] == round(2_400_000 / 900_000, 4)
    csv = admin.http.get("/funding/instruments/report.csv")
    assert csv.status_code == 200 and "Taux de remboursement" in csv.text

    # The dashboard's figures for the territory are the API's sums.
    public = sum(
        r["amount_cents"] if r["kind"] == "guarantee" else r["disbursed_cents"] for r in report
    )
    bank = sum(r["bank_loans_cents"] for r in report)
    due = sum(r["due_cents"] for r in report)
    repaid_total = sum(r["repaid_cents"] for r in report)
    expected = {
        "territory": "38",
        "leverage": round(bank / public, 4),
        "repayment_rate": round(min(repaid_total, due) / due, 4),
    }
    dashboard_tok = role_token(
        gw,
        admin_tok,
        client_id="tableau-de-bord",
        role="dashboard",
        scopes=["dashboard:read"],
        tenants={"currencies": ["*"], "programmes": ["*"], "territories": ["*"]},
    )

    def territory_figures() -> dict[str, Any]:
        response = httpx.get(
            f"{gw}/api/dashboard/summary",
            headers={"Authorization": f"Bearer {dashboard_tok}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        summary = response.json()
        found = [i for i in summary["instruments"] if i["territory"] == "38"]
        return {k: found[0][k] for k in expected} if found else {}

    assert _until(territory_figures, lambda f: f == expected) == expected

    # The diagnostics of the territory keep the same figures, from the same events.
    admin.ok("POST", "/diagnostics/admin/demo")  # its territories (Isère among them)
    sums = {
        "public_cents": public,
        "bank_loans_cents": bank,
        "due_cents": due,
        "repaid_cents": repaid_total,
        "leverage": expected["leverage"],
        "repayment_rate": expected["repayment_rate"],
    }

    def diagnostic() -> dict[str, Any]:
        found = admin.ok("GET", "/diagnostics/territories/38/instruments")
        return {k: found[k] for k in sums}

    assert _until(diagnostic, lambda f: f == sums) == sums


def _until(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 90) -> Any:
    """Poll ``read`` until ``done`` (events cross Kafka between services); the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def _rotated(gw: str, admin_tok: str, client_id: str) -> grant_flow.As:
    """A second token for a client approved_application registered (a new secret)."""
    rotated = httpx.post(
        f"{gw}/admin/clients/{client_id}/rotate-secret",
        headers={"Authorization": f"Bearer {admin_tok}"},
        timeout=30,
    )
    assert rotated.status_code == 200, rotated.text
    return grant_flow.As(gw, grant_flow.token(gw, client_id, rotated.json()["client_secret"]))


def _guarantee_called(
    gw: str, admin_tok: str, applicant: grant_flow.As, officer: grant_flow.As
) -> dict[str, Any]:
    """A second file, guaranteed: 50 % of a 24,000 € bank loan, capped at 9,000 €; the bank
    reports a default with 15,000 € outstanding. Returns the call."""
    instructor = _rotated(gw, admin_tok, "acc-isere")
    committee = grant_flow.As(
        gw,
        role_token(
            gw,
            admin_tok,
            client_id="secretariat-garanties",
            role="committee",
            scopes=["funding:decide", "funding:read"],
            tenants={
                "programmes": [grant_flow.PROGRAMME],
                "territories": ["38"],
                "envelopes": ["*"],
            },
        ),
    )
    body = {
        "envelope_code": "IDECLIC-2026",
        "applicant_name": "SCIC Monnaie du Grésivaudan",
        "legal_form": "scic",
        "project_stage": "creation",
        "title": "Prêt bancaire pour le comptoir de change",
        "commune_insee_code": grant_flow.COMMUNE,
        "requested_amount_cents": 900_000,
    }
    app_id = applicant.ok("POST", "/funding/applications", 201, json=body)["id"]

    terms = {
        "kind": "guarantee",
        "bank_name": "Crédit Coopératif",
        "bank_loan_cents": 2_400_000,
        "covered_share_percent": 50,
        "fee_bp": 100,
        "term_months": 60,
    }
    grant_flow.decided_in_committee(
        app_id,
        applicant=applicant,
        instructor=instructor,
        committee=committee,
        amount_cents=900_000,
        deliberation="CP-2026-12-G01",
        instrument=terms,
        summary="Garantie d'un prêt bancaire",
        title="Comité garanties",
        scheduled_at="2026-12-01T09:00:00+01:00",
    )
    instrument = officer.ok("GET", f"/funding/applications/{app_id}/instrument")
    assert instrument["state"] == "active"
    default = {"defaulted_on": "2026-11-30", "outstanding_cents": 1_500_000}
    base = f"/funding/instruments/{instrument['id']}"
    call: dict[str, Any] = officer.ok("POST", f"{base}/guarantee-call", 201, json=default)
    assert officer.ok("GET", base)["state"] == "called"
    return call
