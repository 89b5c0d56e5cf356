"""Twenty committees approving against one envelope at once never over-commit it."""

from __future__ import annotations

import asyncio

import httpx

from tests.integration.funding.conftest import ADMIN, ENVELOPE, Funding, ok


async def test_concurrent_approvals_never_over_commit_the_envelope(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    amount = 400_000
    ok(
        await client.put(
            f"/envelopes/{ENVELOPE}/credits",
            json={"ap_cents": 10 * amount, "cp_cents": 10 * amount},
            headers=ADMIN,
        )
    )
    ready: list[tuple[str, str]] = []
    for _ in range(20):
        application_id = await funding.to_committee(amount=amount)
        session_id = await funding.session()
        await funding.on_agenda(session_id, application_id)
        await funding.open(session_id)
        for member in ("m1", "m2"):
            ok(await funding.vote(session_id, application_id, member, "for"), 204)
        ready.append((session_id, application_id))

    responses = await asyncio.gather(
        *(
            funding.decide(
                session_id,
                application_id,
                outcome="approved",
                amount_cents=amount,
                deliberation_number=f"CP-{n}",
            )
            for n, (session_id, application_id) in enumerate(ready)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 10, [r.text for r in responses if r.status_code >= 500]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"envelope-exceeded"}
    figures = await funding.envelope_figures()
    assert figures["committed_cents"] == 10 * amount == figures["ap_cents"]
    approved = ok(await client.get("/applications?state=approved&limit=200", headers=ADMIN))
    assert len(approved["items"]) == 10
