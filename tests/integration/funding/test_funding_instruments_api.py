"""Instruments through the API on real PostgreSQL: a repayable advance awarded with its
terms, disbursed by the tranche saga, repaid in part, late, rescheduled and repaid; a
guarantee called on a default and paid up to its cap; the report and its CSV."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.funding.instruments.service import report as report_service
from tests.integration.funding.conftest import (
    ADMIN,
    APPLICANT,
    ENVELOPE,
    INSTRUCTOR,
    OFFICER,
    Funding,
    actor,
    ok,
)

OTHER_APPLICANT = actor("applicant", "funding:apply", "funding:read", client_id="scop-7")
SECOND_OFFICER = actor(
    "programme_officer", "funding:instruct", "funding:read", "funding:pay", client_id="officer-2"
)
ADVANCE = {
    "kind": "repayable_advance",
    "start_on": "2025-01-15",
    "instalments": 3,
    "frequency": "quarterly",
    "deferral_months": 6,
    "bank_name": "Banque Populaire",
    "bank_loan_cents": 2_500_000,
}
GUARANTEE = {
    "kind": "guarantee",
    "bank_name": "Crédit Coopératif",
    "bank_loan_cents": 6_000_000,
    "covered_share_percent": 50,
    "fee_bp": 250,
    "term_months": 60,
}


async def _awarded(
    funding: Funding, amount: int, terms: dict[str, Any], deliberation: str
) -> tuple[str, httpx.Response]:
    application_id = await funding.to_committee(amount=amount)
    session_id = await funding.session()
    await funding.on_agenda(session_id, application_id)
    await funding.open(session_id)
    for member in ("m1", "m2", "m3"):
        ok(await funding.vote(session_id, application_id, member, "for"), 204)
    response = await funding.decide(
        session_id,
        application_id,
        outcome="approved",
        amount_cents=amount,
        deliberation_number=deliberation,
        instrument=terms,
    )
    return application_id, response


async def _instrument(funding: Funding, application_id: str) -> dict[str, Any]:
    return ok(
        await funding.client.get(f"/applications/{application_id}/instrument", headers=OFFICER)
    )


async def _disburse(funding: Funding, application_id: str) -> None:
    ok(await funding.act(application_id, "start_payment", OFFICER))
    [tranche] = await funding.tranches(application_id)
    assert tranche["amount_cents"] == 1_000_000 and tranche["payable_when"] == "decision_notified"
    path = f"/tranches/{tranche['id']}"
    ok(await funding.client.post(f"{path}/payment-orders", json={"mode": "euro"}, headers=OFFICER))
    ok(
        await funding.client.post(
            f"{path}/settlement",
            json={"status": "paid", "transaction_id": "virement-avance"},
            headers=OFFICER,
        )
    )


async def _instrument_events(
    funding_db: str, engine_for: Callable[[str], AsyncEngine]
) -> list[tuple[str, dict[str, Any]]]:
    async with engine_for(funding_db).connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT event_type, payload FROM outbox WHERE event_type LIKE "
                "'proxima.funding.instrument.%' OR event_type LIKE 'proxima.funding.guarantee.%' "
                "ORDER BY position"
            )
        )
        # An instrument's own moves; the territory's figures are checked on their own.
        return [
            (kind, json.loads(payload)["data"])
            for kind, payload in rows
            if kind != "proxima.funding.instrument.figures.v1"
        ]


async def test_an_advance_is_disbursed_repaid_late_rescheduled_and_repaid(
    funding: Funding,
    client: httpx.AsyncClient,
    funding_db: str,
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    application_id, response = await _awarded(funding, 1_000_000, ADVANCE, "CP-2026-12-001")
    ok(response, 201)
    instrument = await _instrument(funding, application_id)
    assert (instrument["kind"], instrument["state"]) == (
        "repayable_advance",
        "awaiting_disbursement",
    )
    base = f"/instruments/{instrument['id']}"
    [v1] = ok(await client.get(f"{base}/schedules", headers=OFFICER))["items"]
    assert [(i["due_on"], i["amount_cents"]) for i in v1["instalments"]] == [
        ("2025-10-15", 333_333),
        ("2026-01-15", 333_333),
        ("2026-04-15", 333_334),
    ]
    early = {"amount_cents": 100, "received_on": "2025-10-15"}
    refused = await client.post(f"{base}/repayments", json=early, headers=OFFICER)
    assert refused.status_code == 409 and refused.json()["code"] == "loan-not-disbursed"

    await _disburse(funding, application_id)
    indicators = {"kind": "intermediate", "jobs_created": 3, "members": 12, "turnover_cents": 1}
    report = ok(
        await client.post(
            f"/applications/{application_id}/progress-reports", json=indicators, headers=APPLICANT
        ),
        201,
    )
    review = {"decision": "accepted"}
    reviewed = f"/progress-reports/{report['id']}/review"
    ok(await client.post(reviewed, json=review, headers=INSTRUCTOR))
    paid = {"amount_cents": 333_333, "received_on": "2025-10-15", "reference": "VIR-1"}
    ok(await client.post(f"{base}/repayments", json=paid, headers=OFFICER), 201)
    late = ok(await client.get(f"{base}/position?as_of=2026-04-20", headers=OFFICER))
    assert (late["arrears_cents"], late["days_in_arrears"], late["flagged"]) == (
        666_667,
        95,
        True,
    )
    assert (late["state"], late["owed_cents"], late["disbursed_cents"]) == (
        "flagged",
        666_667,
        1_000_000,
    )

    body = {
        "reason": "Difficultés de trésorerie passagères",
        "start_on": "2026-05-01",
        "instalments": 2,
        "frequency": "monthly",
    }
    v2 = ok(await client.post(f"{base}/schedules", json=body, headers=OFFICER), 201)
    assert (v2["version"], v2["base_repaid_cents"]) == (2, 333_333)
    assert [i["amount_cents"] for i in v2["instalments"]] == [333_333, 333_334]
    page = ok(await client.get(f"{base}/schedules?limit=1", headers=OFFICER))
    assert len(page["items"]) == 1 and page["next_cursor"]
    on_time = ok(await client.get(f"{base}/position?as_of=2026-05-20", headers=OFFICER))
    assert (on_time["arrears_cents"], on_time["schedule_version"]) == (0, 2)

    too_much = {"amount_cents": 666_668, "received_on": "2026-06-01"}
    refused = await client.post(f"{base}/repayments", json=too_much, headers=OFFICER)
    assert refused.status_code == 409 and refused.json()["owed_cents"] == 666_667
    rest = {"amount_cents": 666_667, "received_on": "2026-06-01"}
    ok(await client.post(f"{base}/repayments", json=rest, headers=OFFICER), 201)
    done = ok(await client.get(f"{base}/position?as_of=2026-06-02", headers=OFFICER))
    assert (done["state"], done["owed_cents"], done["repaid_cents"]) == ("repaid", 0, 1_000_000)
    repaid = [d for k, d in await _instrument_events(funding_db, engine_for) if "repaid" in k]
    assert [(d["amount_cents"], d["owed_cents"]) for d in repaid] == [
        (333_333, 666_667),
        (666_667, 0),
    ]
    mine = ok(await client.get("/instruments", headers=APPLICANT))["items"]
    assert [i["id"] for i in mine] == [instrument["id"]]
    assert ok(await client.get("/instruments", headers=OTHER_APPLICANT))["items"] == []
    repayments = ok(await client.get(f"{base}/repayments", headers=OFFICER))["items"]
    assert sorted(r["amount_cents"] for r in repayments) == [333_333, 666_667]
    future = {"amount_cents": 1, "received_on": str(date.today() + timedelta(days=2))}
    refused = await client.post(f"{base}/repayments", json=future, headers=OFFICER)
    assert refused.status_code == 422 and refused.json()["code"] == "date-in-future"
    [row] = ok(await client.get("/instruments/report?programme_code=IDECLIC", headers=ADMIN))[
        "items"
    ]
    assert (row["kind"], row["disbursed_cents"], row["bank_loans_cents"]) == (
        "repayable_advance",
        1_000_000,
        2_500_000,
    )
    assert (row["leverage"], row["due_cents"], row["repaid_cents"]) == (2.5, 1_000_000, 1_000_000)
    assert (row["repayment_rate"], row["losses_cents"], row["jobs_declared"]) == (1.0, 0, 3)
    again = await client.post(f"{base}/schedules", json=body, headers=OFFICER)
    assert again.status_code == 409 and again.json()["code"] == "nothing-to-reschedule"
    default = {"defaulted_on": "2026-06-30", "outstanding_cents": 1}
    not_a_guarantee = await client.post(f"{base}/guarantee-call", json=default, headers=OFFICER)
    assert not_a_guarantee.status_code == 409


async def test_a_guarantee_is_called_up_to_its_cap_and_recoveries_reduce_the_loss(
    funding: Funding,
    client: httpx.AsyncClient,
    funding_db: str,
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    application_id, response = await _awarded(funding, 2_000_000, GUARANTEE, "CP-2026-12-002")
    ok(response, 201)
    assert await funding.tranches(application_id) == []  # a guarantee is not disbursed
    instrument = await _instrument(funding, application_id)
    assert (instrument["state"], instrument["bank_loan_cents"]) == ("active", 6_000_000)
    base = f"/instruments/{instrument['id']}"
    recovery = {"amount_cents": 100_000, "received_on": "2026-09-01"}
    early = await client.post(f"{base}/recoveries", json=recovery, headers=OFFICER)
    assert early.status_code == 409 and early.json()["code"] == "guarantee-call"
    default = {"defaulted_on": "2026-06-30", "outstanding_cents": 4_500_000}
    credits = f"/envelopes/{ENVELOPE}/credits"
    ok(
        await client.put(
            credits, json={"ap_cents": 10_000_000, "cp_cents": 1_000_000}, headers=ADMIN
        )
    )
    short = await client.post(f"{base}/guarantee-call", json=default, headers=OFFICER)
    assert short.status_code == 409, short.text  # the payment credits cannot cover the call
    ok(
        await client.put(
            credits, json={"ap_cents": 10_000_000, "cp_cents": 10_000_000}, headers=ADMIN
        )
    )
    call = ok(await client.post(f"{base}/guarantee-call", json=default, headers=OFFICER), 201)
    assert call["paid_cents"] == 2_000_000  # 50 % of 45,000 € is 22,500 €: the cap holds
    figures = await funding.envelope_figures()
    assert (figures["committed_cents"], figures["paid_cents"]) == (2_000_000, 2_000_000)
    twice = await client.post(f"{base}/guarantee-call", json=default, headers=OFFICER)
    assert twice.status_code == 409
    ok(await client.post(f"{base}/recoveries", json=recovery, headers=OFFICER), 201)
    events = await _instrument_events(funding_db, engine_for)
    assert [(k, d["kind"], d["amount_cents"]) for k, d in events] == [
        ("proxima.funding.instrument.awarded.v1", "guarantee", 2_000_000),
        ("proxima.funding.guarantee.called.v1", "guarantee", 2_000_000),
    ]
    assert {(d["programme_code"], d["territory"]) for _, d in events} == {("IDECLIC", "38")}
    repay = {"amount_cents": 100, "received_on": "2026-01-01"}
    wrong = await client.post(f"{base}/repayments", json=repay, headers=OFFICER)
    assert wrong.status_code == 409 and wrong.json()["code"] == "instrument-kind"

    this_year = datetime.now(UTC).year
    [row] = ok(await client.get("/instruments/report?territory=38", headers=ADMIN))["items"]
    assert (row["kind"], row["amount_cents"], row["bank_loans_cents"]) == (
        "guarantee",
        2_000_000,
        6_000_000,
    )
    assert (row["leverage"], row["losses_cents"], row["year"]) == (3.0, 1_900_000, this_year)
    csv = await client.get("/instruments/report.csv", headers=ADMIN)
    header, line = csv.text.strip().split("\r\n")
    assert header.startswith("Programme;Territoire;Année;Instrument;Nombre")
    assert "Effet de levier" in header and line.startswith(f"IDECLIC;38;{this_year};guarantee;1;")


async def test_bad_terms_and_inputs_are_problems_not_errors(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    too_big_cap = {**GUARANTEE, "bank_loan_cents": 3_000_000}  # 50 % is 15,000 €, cap 20,000
    _, response = await _awarded(funding, 2_000_000, too_big_cap, "CP-2026-12-003")
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid-instrument-terms"
    interest = {**ADVANCE, "annual_rate_bp": 100}
    _, response = await _awarded(funding, 1_000_000, interest, "CP-2026-12-004")
    assert (
        response.status_code == 422
        and "application/problem+json" in response.headers["content-type"]
    )
    far = {**ADVANCE, "start_on": "9999-12-31"}
    _, response = await _awarded(funding, 1_000_000, far, "CP-2026-12-005")
    assert response.status_code == 422
    application_id = await funding.to_committee(amount=1_000_000)
    session_id = await funding.session()
    await funding.on_agenda(session_id, application_id)
    await funding.open(session_id)
    rejected = await funding.decide(
        session_id,
        application_id,
        outcome="rejected",
        reason="Projet non viable",
        deliberation_number="CP-2026-12-007",
        instrument=ADVANCE,
    )
    assert rejected.status_code == 422 and rejected.json()["code"] == "invalid-instrument-terms"
    for query in ("year=1850", "territory=xx", "programme_code=%20", "limit=0", "cursor=a%20b"):
        bad = await client.get(f"/instruments/report?{query}", headers=ADMIN)
        assert bad.status_code == 422, query
    unknown = await client.get(
        "/instruments/0190c3c8-0000-7000-8000-000000000000/position", headers=OFFICER
    )
    assert unknown.status_code == 404
    listed = ok(await client.get("/instruments?limit=1", headers=ADMIN))
    assert listed["items"] == []
    grant = await funding.approved(amount=500_000, deliberation="CP-2026-12-006")
    missing = await client.get(f"/applications/{grant}/instrument", headers=APPLICANT)
    assert missing.status_code == 409


async def test_concurrent_repayments_never_pass_the_balance(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    application_id, response = await _awarded(funding, 1_000_000, ADVANCE, "CP-2026-12-010")
    ok(response, 201)
    await _disburse(funding, application_id)
    base = f"/instruments/{(await _instrument(funding, application_id))['id']}"
    body = {"amount_cents": 200_000, "received_on": "2026-01-15"}
    responses = await asyncio.gather(
        *(client.post(f"{base}/repayments", json=body, headers=OFFICER) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [201] * 5 + [409] * 5
    position = ok(await client.get(f"{base}/position", headers=OFFICER))
    assert (position["repaid_cents"], position["owed_cents"], position["state"]) == (
        1_000_000,
        0,
        "repaid",
    )


async def test_a_flagged_loan_is_written_off_by_two_officers_and_counts_as_a_loss(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    application_id, response = await _awarded(funding, 1_000_000, ADVANCE, "CP-2026-12-020")
    ok(response, 201)
    await _disburse(funding, application_id)
    instrument = await _instrument(funding, application_id)
    assert instrument["state"] == "flagged"  # every instalment fell due in 2025-2026, unpaid
    base = f"/instruments/{instrument['id']}"
    reason = {"reason": "Liquidation judiciaire, aucun actif"}
    asked = ok(await client.post(f"{base}/write-off", json=reason, headers=OFFICER), 201)
    assert (asked["owed_cents"], asked["approved_by"]) == (1_000_000, None)
    again = await client.post(f"{base}/write-off", json=reason, headers=OFFICER)
    assert again.status_code == 409 and again.json()["code"] == "write-off"
    alone = await client.post(f"{base}/write-off/approval", headers=OFFICER)
    assert alone.status_code == 403 and alone.json()["code"] == "four-eyes"
    assert (await _instrument(funding, application_id))["state"] == "flagged"
    approved = ok(await client.post(f"{base}/write-off/approval", headers=SECOND_OFFICER))
    assert approved["approved_by"] == "officer-2"
    assert (await _instrument(funding, application_id))["state"] == "written_off"
    [row] = ok(await client.get("/instruments/report", headers=ADMIN))["items"]
    assert (row["losses_cents"], row["repayment_rate"]) == (1_000_000, 0.0)

    on_time = {**ADVANCE, "start_on": str(date.today())}
    application_id, response = await _awarded(funding, 1_000_000, on_time, "CP-2026-12-021")
    ok(response, 201)
    await _disburse(funding, application_id)
    base = f"/instruments/{(await _instrument(funding, application_id))['id']}"
    refused = await client.post(f"{base}/write-off", json=reason, headers=OFFICER)
    assert refused.status_code == 409 and refused.json()["days_in_arrears"] == 0


async def test_jobs_fees_and_survival_at_one_three_and_five_years_are_reported(
    funding: Funding, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    advances = []
    for n, (jobs, active) in enumerate(((3, True), (2, False))):
        terms = {**ADVANCE, "jobs_declared": jobs}
        application_id, response = await _awarded(funding, 1_000_000, terms, f"CP-2026-12-3{n}")
        ok(response, 201)
        advances.append((await _instrument(funding, application_id), active))
    assert [a["jobs_declared"] for a, _ in advances] == [3, 2]
    guarantee_app, response = await _awarded(
        funding, 2_000_000, {**GUARANTEE, "jobs_declared": 4}, "CP-2026-12-39"
    )
    ok(response, 201)
    guarantee = await _instrument(funding, guarantee_app)
    assert guarantee["fee_cents"] == 150_000  # 2.5 % of the 60,000 € bank loan, recorded

    for instrument, active in advances:
        path = f"/instruments/{instrument['id']}/follow-ups"
        seen = {
            "years": 1,
            "observed_on": "2026-11-30",
            "active": active,
            "jobs": 5 if active else 0,
        }
        ok(await client.post(path, json=seen, headers=OFFICER), 201)
        again = await client.post(path, json=seen, headers=OFFICER)
        assert again.status_code == 409 and again.json()["code"] == "follow-up-recorded"
    path = f"/instruments/{advances[0][0]['id']}/follow-ups"
    ahead = {"years": 3, "observed_on": "2099-01-01", "active": True, "jobs": 1}
    assert (await client.post(path, json=ahead, headers=OFFICER)).status_code == 422
    unknown_age = {**ahead, "years": 2, "observed_on": "2026-11-30"}
    assert (await client.post(path, json=unknown_age, headers=OFFICER)).status_code == 422
    [listed] = ok(await client.get(path, headers=OFFICER))["items"]
    assert (listed["years"], listed["active"], listed["jobs"]) == (1, True, 5)

    report = ok(await client.get("/instruments/report?territory=38", headers=ADMIN))
    assert report["next_cursor"] is None
    rows = {r["kind"]: r for r in report["items"]}
    loans = rows["repayable_advance"]
    assert (loans["jobs_at_decision"], loans["jobs_declared"]) == (5, 5)  # 3 + 2, then 5 + 0
    assert (loans["survival_1y"], loans["survival_3y"], loans["survival_5y"]) == (0.5, None, None)
    assert (rows["guarantee"]["fees_cents"], rows["guarantee"]["jobs_declared"]) == (150_000, 4)
    csv = await client.get("/instruments/report.csv", headers=ADMIN)
    assert "Pérennité à 3 ans" in csv.text and "Commissions de garantie" in csv.text

    # one row (group) per page, in key order, the cursor over (programme, territory, year, kind)
    first = ok(await client.get("/instruments/report?territory=38&limit=1", headers=ADMIN))
    assert [r["kind"] for r in first["items"]] == ["guarantee"] and first["next_cursor"]
    second = ok(
        await client.get(
            "/instruments/report",
            params={"territory": "38", "limit": 1, "cursor": first["next_cursor"]},
            headers=ADMIN,
        )
    )
    assert second["items"] == [rows["repayable_advance"]] and second["next_cursor"] is None
    assert first["items"] == [rows["guarantee"]]
    forged = await client.get("/instruments/report?cursor=bm9wZQ", headers=ADMIN)  # "nope"
    assert forged.status_code == 422 and forged.json()["code"] == "invalid-cursor"
    assert "application/problem+json" in forged.headers["content-type"]

    monkeypatch.setattr(report_service, "CSV_PAGE", 1)  # the export walks every page
    paged_csv = await client.get("/instruments/report.csv?territory=38", headers=ADMIN)
    lines = paged_csv.text.strip().split("\r\n")
    assert len(lines) == 3 and lines[0].startswith("Programme;Territoire")
    assert [line.split(";")[3] for line in lines[1:]] == ["guarantee", "repayable_advance"]
