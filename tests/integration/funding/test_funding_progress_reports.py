"""Tranches in three steps: an advance on the decision, an intermediate tranche released by
an accepted progress report, the balance on the final report; indicators feed the report."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.funding.conftest import (
    APPLICANT,
    INSTRUCTOR,
    OFFICER,
    PROGRAMME,
    Funding,
    ok,
)

INDICATORS = {"jobs_created": 3, "members": 120, "turnover_cents": 4_500_000}


async def _pay(client: httpx.AsyncClient, tranche_id: str) -> None:
    ok(
        await client.post(
            f"/tranches/{tranche_id}/payment-orders", json={"mode": "euro"}, headers=OFFICER
        )
    )
    ok(
        await client.post(
            f"/tranches/{tranche_id}/settlement", json={"status": "paid"}, headers=OFFICER
        )
    )


async def _report(client: httpx.AsyncClient, application_id: str, kind: str) -> dict[str, Any]:
    return ok(
        await client.post(
            f"/applications/{application_id}/progress-reports",
            json={"kind": kind, **INDICATORS, "social_evaluation": "Insertion jobs"},
            headers=APPLICANT,
        ),
        201,
    )


async def test_an_accepted_intermediate_report_releases_the_intermediate_tranche(
    client: httpx.AsyncClient,
) -> None:
    funding = Funding(client)
    await funding.programme(advance_percent=30, intermediate_percents=[30])
    await funding.envelope()
    await funding.accompanist()
    application_id = await funding.approved(amount=1_000_000)
    ok(await funding.act(application_id, "start_payment", OFFICER))
    advance, intermediate, balance = await funding.tranches(application_id)
    assert [t["amount_cents"] for t in (advance, intermediate, balance)] == [
        300_000,
        300_000,
        400_000,
    ]
    assert advance["payable_since"] is not None and intermediate["payable_since"] is None
    await _pay(client, advance["id"])

    early = await client.post(
        f"/tranches/{intermediate['id']}/payment-orders", json={"mode": "euro"}, headers=OFFICER
    )
    assert early.status_code == 409
    assert "intermediate report 1 is not accepted" in early.json()["reasons"]

    report = await _report(client, application_id, "intermediate")
    assert report["number"] == 1 and report["status"] == "submitted"
    duplicate = await client.post(
        f"/applications/{application_id}/progress-reports",
        json={"kind": "intermediate", **INDICATORS},
        headers=APPLICANT,
    )
    assert duplicate.status_code == 409
    by_applicant = await client.post(
        f"/progress-reports/{report['id']}/review", json={"decision": "accepted"}, headers=APPLICANT
    )
    assert by_applicant.status_code == 403
    ok(
        await client.post(
            f"/progress-reports/{report['id']}/review",
            json={"decision": "accepted", "note": "On track"},
            headers=INSTRUCTOR,
        )
    )
    await _pay(client, intermediate["id"])

    ok(await funding.act(application_id, "receive_final_report", APPLICANT, final_report_id="F1"))
    final = await _report(client, application_id, "final")
    ok(
        await client.post(
            f"/progress-reports/{final['id']}/review",
            json={"decision": "accepted"},
            headers=INSTRUCTOR,
        )
    )
    await _pay(client, balance["id"])
    assert ok(await funding.act(application_id, "close", OFFICER))["state"] == "closed"

    figures = ok(await client.get(f"/reports/programmes/{PROGRAMME}", headers=OFFICER))
    assert figures["paid_cents"] == 1_000_000
    assert figures["indicators"] == {"projects_reporting": 1, **INDICATORS}
