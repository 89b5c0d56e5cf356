"""A repayable advance through the gateway, on real Kafka: the committee awards it with its
terms, the ledger disburses its principal in local currency under the operator's mandate
(the grants' payment saga), the project repays part, falls behind, is rescheduled with a
reason and repays the rest; the instruments' report shows the leverage and the repayment
rate that the API's own figures add up to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support import grant_flow
from tests.support.stack import admin_token, e2e_stack

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
    repayment = {"amount_cents": 1_000_000, "received_on": "2025-07-10", "reference": "VIR-1"}
    officer.ok("POST", f"{base}/repayments", 201, json=repayment)
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
    [row] = admin.ok("GET", "/funding/instruments/report", params={"territory": "38"})
    assert (row["kind"], row["year"]) == ("repayable_advance", datetime.now(UTC).year)
    assert (row["disbursed_cents"], row["repaid_cents"]) == (tranche["amount_cents"], repaid)
    assert row["leverage"] == ADVANCE["bank_loan_cents"] / tranche["amount_cents"]
    assert row["repayment_rate"] == 1.0
    csv = admin.http.get("/funding/instruments/report.csv")
    assert csv.status_code == 200 and "Taux de remboursement" in csv.text
