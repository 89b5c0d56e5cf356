"""Instruction of a file: documents with checksums, messages, routing by territory."""

from __future__ import annotations

import base64
import hashlib

import httpx

from tests.integration.funding.conftest import APPLICANT, INSTRUCTOR, OFFICER, Funding, ok


async def test_a_document_is_stored_with_its_checksum_and_read_back(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    application_id = str((await funding.draft())["id"])
    content = b"Budget previsionnel 2026\n" * 100
    body = {
        "filename": "budget.csv",
        "content_type": "text/csv",
        "content_base64": base64.b64encode(content).decode(),
    }
    document = ok(
        await client.post(
            f"/applications/{application_id}/documents", json=body, headers=APPLICANT
        ),
        201,
    )
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert document["size_bytes"] == len(content)
    listed = ok(await client.get(f"/applications/{application_id}/documents", headers=OFFICER))
    assert [d["id"] for d in listed["items"]] == [document["id"]]
    read = await client.get(f"/documents/{document['id']}/content", headers=OFFICER)
    assert read.status_code == 200 and read.content == content

    broken = await client.post(
        f"/applications/{application_id}/documents",
        json={**body, "content_base64": "not base64!"},
        headers=APPLICANT,
    )
    assert broken.status_code == 422


async def test_messages_flow_both_ways_on_a_file(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    application_id = str((await funding.draft())["id"])
    path = f"/applications/{application_id}/messages"
    ok(await client.post(path, json={"body": "Pièce manquante ?"}, headers=APPLICANT), 201)
    ok(await client.post(path, json={"body": "Le budget, merci"}, headers=INSTRUCTOR), 201)
    messages = ok(await client.get(path, headers=APPLICANT))["items"]
    assert [m["author_role"] for m in messages] == ["applicant", "instructor"]


async def test_a_file_is_routed_to_the_accompanist_of_its_territory_or_refused(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    in_isere = str((await funding.draft())["id"])
    ok(await funding.act(in_isere, "submit", APPLICANT))
    assert (
        ok(await funding.act(in_isere, "start_instruction", INSTRUCTOR))["instructor_id"]
        == "acc-isere"
    )

    in_drome = str((await funding.draft(commune="26281"))["id"])
    ok(await funding.act(in_drome, "submit", APPLICANT))
    nobody = await funding.act(in_drome, "start_instruction", INSTRUCTOR)
    assert nobody.status_code == 409 and nobody.json()["code"] == "no-accompanist"
    unknown = await funding.act(in_drome, "start_instruction", INSTRUCTOR, instructor_id="ghost")
    assert unknown.status_code == 422


async def test_a_correction_request_sends_the_file_back_to_the_applicant(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    application_id = str((await funding.draft())["id"])
    ok(await funding.act(application_id, "submit", APPLICANT))
    ok(await funding.act(application_id, "start_instruction", INSTRUCTOR))
    back = ok(
        await funding.act(application_id, "request_correction", INSTRUCTOR, message="Statuts")
    )
    assert back["state"] == "correction_requested"
    assert ok(await funding.act(application_id, "resubmit", APPLICANT))["state"] == "in_instruction"


async def test_an_application_outside_the_programme_rules_is_not_eligible(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    body = {
        "envelope_code": "IDECLIC-2026",
        "applicant_name": "SARL",
        "legal_form": "commercial_company",
        "project_stage": "creation",
        "title": "Shop",
        "commune_insee_code": "75056",
        "requested_amount_cents": 1000,
    }
    response = await client.post("/applications", json=body, headers=APPLICANT)
    assert response.status_code == 422
    assert {f["rule"] for f in response.json()["failures"]} == {"territory", "legal_form"}
