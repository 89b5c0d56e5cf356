"""A grant file from draft to closed through the API, and the workflow's refusals."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.funding.conftest import (
    ADMIN,
    APPLICANT,
    COMMITTEE,
    ENVELOPE,
    INSTRUCTOR,
    OFFICER,
    PROGRAMME,
    Funding,
    ok,
)

EngineFor = Callable[[str], AsyncEngine]


async def _outbox_types(engine_for: EngineFor, funding_db: str) -> list[str]:
    async with engine_for(funding_db).connect() as conn:
        rows = await conn.execute(text("SELECT event_type FROM outbox ORDER BY position"))
        return [r[0] for r in rows]


async def test_a_file_goes_from_draft_to_closed_with_committee_and_tranches_paid(
    funding: Funding,
    client: httpx.AsyncClient,
    engine_for: EngineFor,
    funding_db: str,
) -> None:
    application_id = await funding.approved(amount=1_200_000)
    application = await funding.application(application_id)
    assert application["state"] == "approved"
    assert application["granted_amount_cents"] == 1_200_000
    assert application["instructor_id"] == "acc-isere"  # routed by territory
    assert (await funding.envelope_figures())["committed_cents"] == 1_200_000

    ok(await funding.act(application_id, "start_payment", OFFICER))
    [balance] = await funding.tranches(application_id)
    assert balance["kind"] == "balance" and balance["amount_cents"] == 1_200_000

    refused = await client.post(
        f"/tranches/{balance['id']}/payment-orders", json={"mode": "euro"}, headers=OFFICER
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "tranche-not-payable"

    ok(await funding.act(application_id, "receive_final_report", APPLICANT, final_report_id="RF-1"))
    ordered = ok(
        await client.post(
            f"/tranches/{balance['id']}/payment-orders", json={"mode": "euro"}, headers=OFFICER
        )
    )
    assert ordered["status"] == "ordered"
    figures = await funding.envelope_figures()
    assert figures["ordered_cents"] == 1_200_000 and figures["paid_cents"] == 0

    csv_export = await client.get("/payment-orders.csv", headers=OFFICER)
    assert csv_export.status_code == 200
    assert ordered["order_id"] in csv_export.text and "1200000" in csv_export.text

    closing_early = await funding.act(application_id, "close", OFFICER)
    assert closing_early.status_code == 409 and closing_early.json()["code"] == "unpaid-tranches"

    paid = ok(
        await client.post(
            f"/tranches/{balance['id']}/settlement",
            json={"status": "paid", "transaction_id": "DGFIP-77"},
            headers=OFFICER,
        )
    )
    assert paid["status"] == "paid"
    figures = await funding.envelope_figures()
    assert (figures["paid_cents"], figures["ordered_cents"]) == (1_200_000, 0)

    closed = ok(await funding.act(application_id, "close", OFFICER))
    assert closed["state"] == "closed" and closed["paid_cents"] == 1_200_000

    trail = ok(await client.get(f"/applications/{application_id}/transitions", headers=OFFICER))
    assert [t["to_state"] for t in trail["items"]] == [
        "draft",
        "submitted",
        "in_instruction",
        "in_committee",
        "approved",
        "in_payment",
        "final_report_received",
        "closed",
    ]
    audit = ok(await client.get(f"/applications/{application_id}/audit", headers=OFFICER))
    assert audit["chain_valid"] and audit["entries"] == 8

    types = await _outbox_types(engine_for, funding_db)
    for expected in (
        "proxima.funding.application.submitted.v1",
        "proxima.funding.application.instruction_started.v1",
        "proxima.funding.application.sent_to_committee.v1",
        "proxima.funding.decision.recorded.v1",
        "proxima.funding.budget.committed.v1",
        "proxima.funding.application.payment_started.v1",
        "proxima.funding.report.received.v1",
        "proxima.funding.tranche.payable.v1",
        "proxima.funding.payment.paid.v1",
        "proxima.funding.application.closed.v1",
    ):
        assert expected in types, expected
    assert "proxima.funding.payment.ordered.v1" not in types  # euro orders are exported


async def test_a_grant_above_the_threshold_needs_a_signed_convention_and_pays_an_advance(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    assert (await client.post("/programmes", json={})).status_code == 401
    application_id = await funding.approved(amount=3_000_000)
    skipped = await funding.act(application_id, "start_payment", OFFICER)
    assert skipped.status_code == 409 and skipped.json()["code"] == "convention-required"
    ok(await funding.act(application_id, "sign_convention", OFFICER, convention_reference="CV-9"))
    ok(await funding.act(application_id, "start_payment", OFFICER))
    tranches = await funding.tranches(application_id)
    assert [t["kind"] for t in tranches] == ["balance"]


async def test_an_illegal_action_is_refused_with_the_allowed_ones(funding: Funding) -> None:
    application_id = str((await funding.draft())["id"])
    response = await funding.act(application_id, "start_instruction", INSTRUCTOR)
    assert response.status_code == 409
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["code"] == "illegal-transition"
    assert body["allowed_actions"] == ["submit", "withdraw"]


async def test_a_refusal_without_a_reason_is_unprocessable_and_changes_nothing(
    funding: Funding,
) -> None:
    application_id = str((await funding.draft())["id"])
    ok(await funding.act(application_id, "submit", APPLICANT))
    ok(await funding.act(application_id, "start_eligibility_check", INSTRUCTOR))
    blank = await funding.act(application_id, "declare_ineligible", INSTRUCTOR, reason="  ")
    assert blank.status_code == 422
    assert blank.json()["code"] == "validation-failed"
    missing = await funding.act(application_id, "declare_ineligible", INSTRUCTOR)
    assert missing.status_code == 422 and missing.json()["code"] == "missing-fields"
    assert (await funding.application(application_id))["state"] == "eligibility_check"


async def test_a_committee_rejection_needs_a_reason(funding: Funding) -> None:
    application_id = await funding.to_committee()
    session_id = await funding.session()
    await funding.on_agenda(session_id, application_id)
    await funding.open(session_id)
    for member in ("m1", "m2", "m3"):
        ok(await funding.vote(session_id, application_id, member, "against"), 204)
    no_reason = await funding.decide(
        session_id, application_id, outcome="rejected", deliberation_number="CP-1"
    )
    assert no_reason.status_code == 422 and no_reason.json()["fields"] == {"reason": "missing"}
    rejected = await funding.decide(
        session_id,
        application_id,
        outcome="rejected",
        deliberation_number="CP-1",
        reason="Outside the programme's priorities",
    )
    assert rejected.status_code == 201
    assert (await funding.application(application_id))["state"] == "rejected"


async def test_the_wrong_role_is_forbidden(funding: Funding) -> None:
    application_id = str((await funding.draft())["id"])
    response = await funding.act(application_id, "submit", INSTRUCTOR)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden-role"


async def test_a_decision_above_the_remaining_envelope_is_refused_with_the_remaining_amount(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    ok(
        await client.put(
            f"/envelopes/{ENVELOPE}/credits",
            json={"ap_cents": 1_000_000, "cp_cents": 1_000_000},
            headers=ADMIN,
        )
    )
    application_id = await funding.to_committee(amount=1_500_000)
    session_id = await funding.session()
    await funding.on_agenda(session_id, application_id)
    await funding.open(session_id)
    for member in ("m1", "m2"):
        ok(await funding.vote(session_id, application_id, member, "for"), 204)
    response = await funding.decide(
        session_id,
        application_id,
        outcome="approved",
        amount_cents=1_500_000,
        deliberation_number="CP-9",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "envelope-exceeded"
    assert response.json()["remaining_cents"] == 1_000_000
    assert (await funding.application(application_id))["state"] == "in_committee"
    assert (await funding.envelope_figures())["committed_cents"] == 0


async def test_a_member_with_a_declared_conflict_cannot_vote(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    application_id = await funding.to_committee()
    session_id = await funding.session()
    await funding.on_agenda(session_id, application_id)
    ok(
        await client.post(
            f"/committee-sessions/{session_id}/conflicts",
            json={"application_id": application_id, "member_id": "m2"},
            headers=COMMITTEE,
        )
    )
    await funding.open(session_id)
    refused = await funding.vote(session_id, application_id, "m2", "for")
    assert refused.status_code == 403
    assert refused.json()["code"] == "conflict-of-interest"
    assert (await funding.vote(session_id, application_id, "m1", "for")).status_code == 204


async def test_the_programme_report_counts_commitments_states_and_territories(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    await funding.approved(amount=1_000_000)
    await funding.draft(commune="26281")
    report = ok(await client.get(f"/reports/programmes/{PROGRAMME}", headers=OFFICER))
    assert report["committed_cents"] == 1_000_000
    assert report["remaining_ap_cents"] == 9_000_000
    assert report["applications_by_state"] == {"approved": 1, "draft": 1}
    assert {t["territory"]: t["applications"] for t in report["by_territory"]} == {"26": 1, "38": 1}
    envelope = ok(await client.get(f"/reports/envelopes/{ENVELOPE}", headers=OFFICER))
    assert envelope["envelopes"][0]["remaining_ap_cents"] == 9_000_000


async def test_awarded_grants_are_published_in_the_scdl_open_data_format(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    await funding.approved(amount=1_234_567, deliberation="CP-2026-11-042")
    await funding.draft()  # not awarded: not published
    response = await client.get("/reports/awarded-grants.csv", headers=OFFICER)
    assert response.status_code == 200
    header, line = response.text.strip().split("\n")
    assert header.startswith("nomAttribuant,idAttribuant,dateConvention,referenceDecision")
    fields = dict(zip(header.split(","), line.split(","), strict=True))
    assert fields["montant"] == "12345.67"
    assert fields["referenceDecision"] == "CP-2026-11-042"
    assert fields["nomAttribuant"] == "Région Rhône-Alpes"
    assert fields["nature"] == "aide en numéraire" and fields["notificationUE"] == "non"


async def test_closing_an_approved_file_without_follow_up_releases_its_commitment(
    funding: Funding, engine_for: EngineFor, funding_db: str
) -> None:
    application_id = await funding.approved(amount=900_000)
    assert (await funding.envelope_figures())["committed_cents"] == 900_000
    no_reason = await funding.act(application_id, "close_without_follow_up", OFFICER)
    assert no_reason.status_code == 422
    closed = ok(
        await funding.act(
            application_id, "close_without_follow_up", OFFICER, reason="Project abandoned"
        )
    )
    assert closed["state"] == "closed_without_follow_up"
    assert (await funding.envelope_figures())["committed_cents"] == 0
    assert "proxima.funding.budget.released.v1" in await _outbox_types(engine_for, funding_db)


async def test_lists_are_paginated_by_keyset(funding: Funding, client: httpx.AsyncClient) -> None:
    created = [str((await funding.draft())["id"]) for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = ok(await client.get("/applications", params=params, headers=OFFICER))
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created  # time-ordered ids: creation order, nothing twice, nothing lost
    bad = await client.get("/applications", params={"cursor": "nope"}, headers=OFFICER)
    assert bad.status_code == 422


async def test_csv_exports_neutralise_formula_cells_and_keep_amounts(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    application_id = await funding.approved(
        amount=1_200_000, applicant_name='=HYPERLINK("http://x")', title="@SUM(A1)"
    )
    ok(await funding.act(application_id, "start_payment", OFFICER))
    [balance] = await funding.tranches(application_id)
    ok(await funding.act(application_id, "receive_final_report", APPLICANT, final_report_id="RF-1"))
    ok(
        await client.post(
            f"/tranches/{balance['id']}/payment-orders", json={"mode": "euro"}, headers=OFFICER
        )
    )

    orders = await client.get("/payment-orders.csv", headers=OFFICER)
    assert orders.status_code == 200, orders.text
    [order] = list(csv.DictReader(io.StringIO(orders.text)))
    assert order["beneficiary"] == '\'=HYPERLINK("http://x")'
    assert order["amount_cents"] == "1200000"

    grants = await client.get("/reports/awarded-grants.csv", headers=OFFICER)
    assert grants.status_code == 200, grants.text
    [grant] = list(csv.DictReader(io.StringIO(grants.text)))
    assert grant["nomBeneficiaire"] == '\'=HYPERLINK("http://x")'
    assert grant["objet"] == "'@SUM(A1)"
    assert grant["montant"] == "12000.00"


async def test_an_agenda_naming_a_missing_application_says_which_one(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    """Not a 404 as if the session itself did not exist: the session is there, the
    application is not."""
    session_id = await funding.session()
    missing = str(uuid.uuid4())
    refused = await client.post(
        f"/committee-sessions/{session_id}/agenda",
        json={"application_id": missing},
        headers=COMMITTEE,
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "agenda-application-not-found"
    assert body["application_id"] == missing
    assert missing in body["detail"]
