"""Nobody reads or writes outside their scopes and tenant bindings."""

from __future__ import annotations

import httpx

from tests.integration.funding.conftest import (
    APPLICANT,
    ENVELOPE,
    OFFICER,
    PROGRAMME,
    Funding,
    actor,
    ok,
)

PARTNER_38 = actor(
    "territorial_partner",
    "funding:instruct",
    "funding:read",
    client_id="cddra-38",
    programmes=(),
    territories=("38",),
    envelopes=("IDECLIC-2026-38",),
)
OTHER_APPLICANT = actor("applicant", "funding:apply", "funding:read", client_id="asso-7")
OTHER_PROGRAMME = actor(
    "programme_officer", "funding:instruct", "funding:read", programmes=("CAE",)
)


async def _delegated(funding: Funding, client: httpx.AsyncClient) -> None:
    await funding.envelope("IDECLIC-2026-38", ap=2_000_000, cp=2_000_000)
    from tests.integration.funding.conftest import ADMIN

    ok(
        await client.put(
            "/envelopes/IDECLIC-2026-38/delegation",
            json={"delegated_to": "CDDRA Grésivaudan", "territories": ["38"]},
            headers=ADMIN,
        )
    )


async def test_a_territorial_partner_sees_only_its_delegated_envelope_and_territory(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    await _delegated(funding, client)
    in_38 = str((await funding.draft(envelope="IDECLIC-2026-38"))["id"])
    in_26 = str((await funding.draft(envelope="IDECLIC-2026-38", commune="26281"))["id"])
    regional = str((await funding.draft(envelope=ENVELOPE))["id"])

    listed = ok(await client.get("/applications", headers=PARTNER_38))
    assert [a["id"] for a in listed["items"]] == [in_38]
    assert (await client.get(f"/applications/{in_38}", headers=PARTNER_38)).status_code == 200
    for hidden in (in_26, regional):
        response = await client.get(f"/applications/{hidden}", headers=PARTNER_38)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
    assert (await client.get(f"/envelopes/{ENVELOPE}", headers=PARTNER_38)).status_code == 403
    report = ok(await client.get("/reports/envelopes/IDECLIC-2026-38", headers=PARTNER_38))
    assert report["applications_by_state"] == {"draft": 1}


async def test_an_applicant_sees_only_its_own_files_and_no_private_notes(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    mine = str((await funding.draft())["id"])
    assert (await client.get(f"/applications/{mine}", headers=OTHER_APPLICANT)).status_code == 403
    assert ok(await client.get("/applications", headers=OTHER_APPLICANT))["items"] == []
    assert len(ok(await client.get("/applications", headers=APPLICANT))["items"]) == 1

    ok(
        await client.post(
            f"/applications/{mine}/opinions",
            json={
                "expert": "ESS expert",
                "verdict": "reserved",
                "body": "Fragile",
                "confidential": True,
            },
            headers=OFFICER,
        ),
        201,
    )
    ok(
        await client.post(
            f"/applications/{mine}/opinions",
            json={"expert": "Bank", "verdict": "favourable", "body": "Sound"},
            headers=OFFICER,
        ),
        201,
    )
    ok(
        await client.post(
            f"/applications/{mine}/annotations", json={"body": "Call them"}, headers=OFFICER
        ),
        201,
    )
    seen = ok(await client.get(f"/applications/{mine}/opinions", headers=APPLICANT))
    assert [o["expert"] for o in seen["items"]] == ["Bank"]
    staff = ok(await client.get(f"/applications/{mine}/opinions", headers=OFFICER))
    assert len(staff["items"]) == 2
    notes = await client.get(f"/applications/{mine}/annotations", headers=APPLICANT)
    assert notes.status_code == 403


async def test_a_client_of_another_programme_is_refused(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    mine = str((await funding.draft())["id"])
    for method, path, body in (
        ("GET", f"/applications/{mine}", None),
        ("GET", f"/programmes/{PROGRAMME}", None),
        ("GET", f"/reports/programmes/{PROGRAMME}", None),
        ("POST", f"/applications/{mine}/annotations", {"body": "x"}),
    ):
        response = await client.request(method, path, json=body, headers=OTHER_PROGRAMME)
        assert response.status_code == 403, (path, response.text)
    assert ok(await client.get("/applications", headers=OTHER_PROGRAMME))["items"] == []


async def test_every_endpoint_declares_a_scope_and_refuses_anonymous_calls(
    client: httpx.AsyncClient,
) -> None:
    from fastapi.routing import APIRoute, iter_route_contexts

    from shared.auth import declared_scopes

    app = client.app  # type: ignore[attr-defined]
    contexts = [
        c
        for c in iter_route_contexts(app.routes)
        if isinstance(c.original_route, APIRoute)
        and c.path not in {"/healthz", "/readyz", "/openapi.json", "/docs"}
    ]
    assert len(contexts) > 30
    for context in contexts:
        assert declared_scopes(context), context.path
    response = await client.get("/applications")
    assert response.status_code == 401


async def test_a_missing_scope_is_forbidden(funding: Funding, client: httpx.AsyncClient) -> None:
    reader = actor("programme_officer", "funding:read")
    response = await client.post(
        "/programmes/IDECLIC/envelopes",
        json={"code": "X-1", "year": 2026, "ap_cents": 1, "cp_cents": 1},
        headers=reader,
    )
    assert response.status_code == 403
    draft = str((await funding.draft())["id"])
    submit = await funding.act(
        draft, "submit", actor("applicant", "funding:read", client_id="scic-42")
    )
    assert submit.status_code == 403
