"""Journal exports (FEC, CSV) and chain verification through the API, on a hand-built
ledger whose expected lines are written out in full."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.ledger.ledger_support import CURRENCY, Ledger, operator

FEC_HEADER = (
    "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\t"
    "CompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\t"
    "ValidDate\tMontantdevise\tIdevise"
)


async def post(ledger: Ledger, legs: list[tuple[str, int]], day: str, text: str) -> str:
    body = {
        "effective_date": day,
        "description": text,
        "postings": [{"account_id": a, "currency": CURRENCY, "amount": m} for a, m in legs],
    }
    r = await ledger.client.post("/transactions", json=body, headers=ledger.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def sealed(ledger: Ledger) -> dict[str, Any]:
    """Wait for the app's background sealer to chain everything committed."""
    for _ in range(200):
        r = await ledger.client.get(f"/currencies/{CURRENCY}/audit/verify", headers=ledger.headers)
        assert r.status_code == 200, r.text
        if r.json()["unsealed_transactions"] == 0:
            return dict(r.json())
        await asyncio.sleep(0.1)
    raise AssertionError("the sealer did not catch up")


async def book(ledger: Ledger) -> dict[str, str]:
    """issuer → Alice 50,00 (Nov 2); Alice → bakery 12,34 (Nov 10); bakery → Alice (Dec 1)."""
    ids = {
        "issuer": await ledger.account(CURRENCY, "issuer", name="Émission"),
        "alice": await ledger.account(CURRENCY, "member", name="Alice Martin"),
        "shop": await ledger.account(CURRENCY, "merchant", name="Boulangerie\tDupont"),
    }
    ids["t1"] = await post(ledger, [(ids["issuer"], -5000), (ids["alice"], 5000)], "2026-11-02", "")
    ids["t2"] = await post(
        ledger, [(ids["alice"], -1234), (ids["shop"], 1234)], "2026-11-10", "Pain et\nbrioche"
    )
    ids["t3"] = await post(ledger, [(ids["shop"], -1), (ids["alice"], 1)], "2026-12-01", "rendu")
    return ids


@pytest.fixture
async def ledger(client: httpx.AsyncClient) -> Ledger:
    """The ledger of every test here: its book (`book`) is dated in November 2026, further
    back than the default backdating window allows."""
    helper = Ledger(client)
    await helper.currency(max_backdating_days=3660)
    return helper


def fec(*fields: str) -> str:
    return "\t".join(fields)


async def test_fec_export_has_the_exact_expected_lines_and_balances(ledger: Ledger) -> None:
    ids = await book(ledger)
    assert (await sealed(ledger))["verified_links"] == 3
    today = datetime.now(ZoneInfo("Europe/Paris")).strftime("%Y%m%d")

    r = await ledger.client.get(
        f"/currencies/{CURRENCY}/journal.fec",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=ledger.headers,
    )

    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/tab-separated-values; charset=iso-8859-15"
    assert r.headers["content-disposition"] == (
        'attachment; filename="GONETTEFEC20261130-provisoire.txt"'
    )
    assert r.headers["proxima-journal-status"] == "provisional"
    text = r.content.decode("iso-8859-15")
    assert text.endswith("\r\n")
    j, lib = CURRENCY, f"Journal {CURRENCY}"
    members = "Adhérents - comptes en monnaie locale"
    merchants = "Prestataires - comptes en monnaie locale"
    issued = "Monnaie émise - contrepartie des unités en circulation"
    # account ids are time-ordered (UUIDv7): issuer < alice < shop
    assert text.split("\r\n")[:-1] == [
        FEC_HEADER,
        fec(j, lib, "1", "20261102", "4678", issued, "", "", ids["t1"], "20261102", "transfer",
            "50,00", "0,00", "", "", today, "50,00", j),
        fec(j, lib, "1", "20261102", "4671", members, ids["alice"], "Alice Martin", ids["t1"],
            "20261102", "transfer", "0,00", "50,00", "", "", today, "50,00", j),
        fec(j, lib, "2", "20261110", "4671", members, ids["alice"], "Alice Martin", ids["t2"],
            "20261110", "Pain et brioche", "12,34", "0,00", "", "", today, "12,34", j),
        fec(j, lib, "2", "20261110", "4672", merchants, ids["shop"], "Boulangerie Dupont",
            ids["t2"], "20261110", "Pain et brioche", "0,00", "12,34", "", "", today, "12,34", j),
    ]  # fmt: skip

    rows = [line.split("\t") for line in text.split("\r\n")[1:-1]]
    assert all(len(row) == 18 for row in rows)
    debit = sum(Decimal(row[11].replace(",", ".")) for row in rows)
    credit = sum(Decimal(row[12].replace(",", ".")) for row in rows)
    assert debit == credit == Decimal("62.34")


async def test_csv_export_lists_every_sealed_posting(ledger: Ledger) -> None:
    ids = await book(ledger)
    await sealed(ledger)

    r = await ledger.client.get(f"/currencies/{CURRENCY}/journal.csv", headers=ledger.headers)

    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="GONETTE-journal-')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [
        (row["position"], row["transaction_id"], row["account_id"], row["amount"]) for row in rows
    ] == [
        ("1", ids["t1"], ids["issuer"], "-5000"),
        ("1", ids["t1"], ids["alice"], "5000"),
        ("2", ids["t2"], ids["alice"], "-1234"),
        ("2", ids["t2"], ids["shop"], "1234"),
        ("3", ids["t3"], ids["alice"], "1"),
        ("3", ids["t3"], ids["shop"], "-1"),
    ]
    assert rows[2]["amount_decimal"] == "-12.34"
    assert rows[3]["description"] == "Pain et\nbrioche"
    assert rows[3]["account_name"] == "Boulangerie\tDupont"
    assert sum(int(row["amount"]) for row in rows) == 0

    since_december = await ledger.client.get(
        f"/currencies/{CURRENCY}/journal.csv", params={"from": "2026-12-01"}, headers=ledger.headers
    )
    assert [row["position"] for row in csv.DictReader(io.StringIO(since_december.text))] == [
        "3",
        "3",
    ]


async def test_verify_reports_a_whole_chain_through_the_api(ledger: Ledger) -> None:
    await book(ledger)
    assert await sealed(ledger) == {
        "currency": CURRENCY,
        "verified_links": 3,
        "unsealed_transactions": 0,
        "first_broken": None,
    }


async def test_journal_and_verify_refuse_bad_input_and_other_tenants(
    ledger: Ledger, client: httpx.AsyncClient
) -> None:
    base = f"/currencies/{CURRENCY}"
    reversed_period = await client.get(
        f"{base}/journal.fec",
        params={"from": "2026-12-01", "to": "2026-11-01"},
        headers=ledger.headers,
    )
    assert reversed_period.status_code == 422
    assert reversed_period.headers["content-type"] == "application/problem+json"
    assert reversed_period.json()["code"] == "invalid-period"
    bad_date = await client.get(
        f"{base}/journal.csv", params={"to": "soon"}, headers=ledger.headers
    )
    assert bad_date.status_code == 422

    for path in ("audit/verify", "journal.fec", "journal.csv"):
        unknown = await client.get(f"/currencies/NOPE/{path}", headers=operator("*"))
        assert unknown.status_code == 404, path
        other = await client.get(f"{base}/{path}", headers=operator("MESURE"))
        assert other.status_code == 403, path
        post_only = await client.get(
            f"{base}/{path}", headers=operator(CURRENCY, scopes=("ledger:post",))
        )
        assert post_only.status_code == 403, path


async def test_journal_exports_neutralise_formula_labels_and_keep_amounts(
    ledger: Ledger,
) -> None:
    issuer = await ledger.account(CURRENCY, "issuer", name="Émission")
    alice = await ledger.account(CURRENCY, "member", name="@SUM(A1)")
    day = date.today().isoformat()
    t1 = await post(ledger, [(issuer, -5000), (alice, 5000)], day, '=HYPERLINK("http://x")')
    await sealed(ledger)

    r = await ledger.client.get(f"/currencies/{CURRENCY}/journal.csv", headers=ledger.headers)

    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [
        (row["description"], row["account_name"], row["amount"], row["amount_decimal"])
        for row in rows
    ] == [
        ('\'=HYPERLINK("http://x")', "Émission", "-5000", "-50.00"),
        ('\'=HYPERLINK("http://x")', "'@SUM(A1)", "5000", "50.00"),
    ]

    fec_file = await ledger.client.get(
        f"/currencies/{CURRENCY}/journal.fec", headers=ledger.headers
    )
    assert fec_file.status_code == 200, fec_file.text
    lines = [line.split("\t") for line in fec_file.content.decode("iso-8859-15").split("\r\n")]
    member_line = next(line for line in lines[1:] if line[6] == alice)
    assert member_line[8] == t1
    assert member_line[7] == "'@SUM(A1)"  # CompAuxLib
    assert member_line[10] == '\'=HYPERLINK("http://x")'  # EcritureLib
    assert (member_line[11], member_line[12]) == ("0,00", "50,00")
