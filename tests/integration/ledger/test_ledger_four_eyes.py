"""Four eyes on large operator acts: an issuance or reconversion at or above the currency's
threshold waits, posts nothing, and is posted only when a second operator approves it, with
both principals on the transaction; the operator who asked can neither approve nor reject."""

from __future__ import annotations

from tests.integration.ledger.ledger_support import Ledger, operator
from tests.integration.ledger.test_ledger_api_reserves import reserve_setup
from tests.integration.ledger.test_ledger_api_transactions import expect_problem

THRESHOLD = 1_000_000


async def test_a_large_issuance_waits_for_a_second_operator(ledger: Ledger) -> None:
    a = await reserve_setup(ledger, four_eyes_threshold=THRESHOLD)
    client, first = ledger.client, ledger.headers
    second = operator("MESURE", "EUR", client_id="second-operator")
    small = await client.post(
        "/currencies/MESURE/issuances",
        json={"account_id": a["member"], "euros": 999_999},
        headers=first,
    )
    assert small.status_code == 201, small.text
    asked = await client.post(
        "/currencies/MESURE/issuances",
        json={"account_id": a["member"], "euros": THRESHOLD},
        headers=first,
    )
    assert asked.status_code == 202, asked.text
    pending = asked.json()
    assert (pending["status"], pending["requested_by"], pending["amount"]) == (
        "pending",
        "operator",
        THRESHOLD,
    )
    assert (await ledger.balance(a["member"]))["posted"] == 999_999
    path = f"/currencies/MESURE/approvals/{pending['id']}"
    await expect_problem(
        await client.post(f"{path}/approval", headers=first), 403, "four-eyes-same-operator"
    )
    await expect_problem(
        await client.post(f"{path}/rejection", headers=first), 403, "four-eyes-same-operator"
    )
    listed = await client.get("/currencies/MESURE/approvals?status=pending", headers=second)
    assert [x["id"] for x in listed.json()["items"]] == [pending["id"]]
    approved = await client.post(f"{path}/approval", headers=second)
    assert approved.status_code == 200, approved.text
    done = approved.json()
    assert (done["status"], done["decided_by"]) == ("approved", "second-operator")
    assert done["transaction"]["metadata"]["requested_by"] == "operator"
    assert done["transaction"]["metadata"]["approved_by"] == "second-operator"
    assert (await ledger.balance(a["member"]))["posted"] == 999_999 + THRESHOLD
    # decided once: a second approval is refused and posts nothing more
    await expect_problem(
        await client.post(f"{path}/approval", headers=second), 409, "approval-not-pending"
    )
    assert (await ledger.balance(a["member"]))["posted"] == 999_999 + THRESHOLD


async def test_a_rejected_reconversion_posts_nothing(ledger: Ledger) -> None:
    a = await reserve_setup(ledger, four_eyes_threshold=THRESHOLD)
    second = operator("MESURE", "EUR", client_id="second-operator")
    for _ in range(2):  # each below the threshold: posted at once
        issued = await ledger.client.post(
            "/currencies/MESURE/issuances",
            json={"account_id": a["shop"], "euros": 999_999},
            headers=ledger.headers,
        )
        assert issued.status_code == 201, issued.text
    asked = await ledger.client.post(
        "/currencies/MESURE/reconversions",
        json={"account_id": a["shop"], "units": THRESHOLD},
        headers=ledger.headers,
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["act"] == "reconversion"
    rejected = await ledger.client.post(
        f"/currencies/MESURE/approvals/{asked.json()['id']}/rejection", headers=second
    )
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["transaction"]) == ("rejected", None)
    assert (await ledger.balance(a["shop"]))["posted"] == 2 * 999_999
    assert (await ledger.balance(a["reserve"]))["posted"] == 2 * 999_999


async def test_the_database_refuses_an_approval_by_the_one_who_asked(ledger: Ledger) -> None:
    from sqlalchemy import text

    a = await reserve_setup(ledger, four_eyes_threshold=10)
    asked = await ledger.client.post(
        "/currencies/MESURE/issuances",
        json={"account_id": a["member"], "euros": 10},
        headers=ledger.headers,
    )
    assert asked.status_code == 202, asked.text
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    refused = False
    try:
        async with factory() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE operator_approvals SET status = 'rejected', decided_by = "
                    "requested_by, decided_at = now() WHERE id = :id"
                ),
                {"id": asked.json()["id"]},
            )
    except Exception as exc:  # noqa: BLE001 - the constraint's name is what matters
        refused = "ck_operator_approvals_four_eyes" in str(exc)
    assert refused
