"""An account statement as CSV: opening row, one row per entry with the running balance,
closing row; the same figures as the JSON statement."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from tests.integration.ledger.ledger_support import Ledger, operator


async def test_statement_csv_has_opening_entries_running_balance_and_closing(
    ledger: Ledger,
) -> None:
    _, member = await ledger.funded(1000)
    since = datetime.now(UTC)
    shop = await ledger.account(type="merchant")
    first = await ledger.transfer(member, shop, 300, description='café, "croissant"')
    second = await ledger.transfer(member, shop, 50)
    assert first.status_code == second.status_code == 201
    until = since + timedelta(hours=1)
    params = {"since": since.isoformat(), "until": until.isoformat()}

    r = await ledger.client.get(
        f"/accounts/{member}/statement.csv", params=params, headers=ledger.headers
    )

    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith(f'attachment; filename="statement-{member}')
    rows = list(csv.reader(io.StringIO(r.text)))
    at = [first.json()["inserted_at"], second.json()["inserted_at"]]
    today = first.json()["effective_date"]
    assert [row[:1] + row[2:] for row in rows] == [
        ["line", "effective_date", "transaction_id", "kind", "description", "amount", "balance"],
        ["opening", "", "", "", "", "", "1000"],
        ["entry", today, first.json()["id"], "transfer", 'café, "croissant"', "-300", "700"],
        ["entry", today, second.json()["id"], "transfer", "", "-50", "650"],
        ["closing", "", "", "", "", "", "650"],
    ]
    assert datetime.fromisoformat(rows[1][1]) == since
    assert [datetime.fromisoformat(row[1]) for row in rows[2:4]] == [
        datetime.fromisoformat(a) for a in at
    ]
    assert datetime.fromisoformat(rows[4][1]) == until


async def test_statement_csv_refuses_a_bad_period_and_another_tenant(ledger: Ledger) -> None:
    _, member = await ledger.funded(10)
    now = datetime.now(UTC)
    backwards = {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()}
    r = await ledger.client.get(
        f"/accounts/{member}/statement.csv", params=backwards, headers=ledger.headers
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid-period"
    fine = {"since": (now - timedelta(days=1)).isoformat(), "until": now.isoformat()}
    other = await ledger.client.get(
        f"/accounts/{member}/statement.csv", params=fine, headers=operator("MESURE")
    )
    assert other.status_code == 403


async def test_statement_csv_neutralises_formula_descriptions_and_keeps_negative_amounts(
    ledger: Ledger,
) -> None:
    _, member = await ledger.funded(1000)
    since = datetime.now(UTC)
    shop = await ledger.account(type="merchant")
    link = await ledger.transfer(member, shop, 300, description='=HYPERLINK("http://x")')
    total = await ledger.transfer(member, shop, 125, description="@SUM(A1)")
    assert link.status_code == total.status_code == 201, (link.text, total.text)
    params = {"since": since.isoformat(), "until": (since + timedelta(hours=1)).isoformat()}

    r = await ledger.client.get(
        f"/accounts/{member}/statement.csv", params=params, headers=ledger.headers
    )

    assert r.status_code == 200, r.text
    entries = [row for row in csv.DictReader(io.StringIO(r.text)) if row["line"] == "entry"]
    assert [(e["description"], e["amount"], e["balance"]) for e in entries] == [
        ('\'=HYPERLINK("http://x")', "-300", "700"),
        ("'@SUM(A1)", "-125", "575"),
    ]
