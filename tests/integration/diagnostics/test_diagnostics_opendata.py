"""Open data of a currency on real PostgreSQL: nothing before its operator opts in, then
closed months only, small and dominated territories withheld with no way back through the
total, CSV with French headers under Licence Ouverte 2.0, no token needed to read, and the
figures gone again after an opt-out."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import httpx

from services.diagnostics.aggregates.service import apply_transaction
from shared.events.catalog.ledger import PostedLeg, TransactionPosted
from shared.events.envelope import new_event
from tests.support.tokens import bearer

OPERATOR = bearer(
    scopes=["diagnostics:admin"], tenants={"currencies": ["MESURE"]}, client_id="mesure-op"
)
STRANGER = bearer(
    scopes=["diagnostics:admin"], tenants={"currencies": ["GONETTE"]}, client_id="gonette-op"
)
TODAY = date.today()
OCTOBER = (TODAY.replace(day=1) - timedelta(days=100)).replace(day=12)  # a settled month
CLOSED = f"{OCTOBER.year:04d}-{OCTOBER.month:02d}"
JSON_PATH = "/public/opendata/currency-figures.json"


def _tx(tx: str, legs: list[tuple[str, str, str | None, int]], kind: str, day: date):
    return TransactionPosted(
        transaction_id=tx,
        currency="MESURE",
        kind=kind,
        effective_date=day,
        postings=[
            PostedLeg(account_id=a, account_type=t, territory=z, amount=n) for a, t, z, n in legs
        ],
    )


def _stream() -> list[TransactionPosted]:
    """A closed month: Grenoble (38185) 6 even members, Lyon (69123) 2 members,
    Saint-Étienne (42218) 6 members of whom one holds nearly everything; today (the month
    still open) and the last day of last month (ended, not settled): one more each."""
    out, n = [], 0

    def issue(account: str, territory: str, amount: int, day: date = OCTOBER) -> None:
        nonlocal n
        n += 1
        legs = [("iss", "issuer", None, -amount), (account, "member", territory, amount)]
        out.append(_tx(f"t{n}", legs, "issuance", day))

    def pay(payer: str, payee: str, territory: str, amount: int) -> None:
        nonlocal n
        n += 1
        legs = [(payer, "member", territory, -amount), (payee, "member", territory, amount)]
        out.append(_tx(f"t{n}", legs, "transfer", OCTOBER))

    for i in range(6):
        issue(f"g{i}", "38185", 10_000)
        pay(f"g{i}", f"g{(i + 1) % 6}", "38185", 1_000)
    for i in range(2):
        issue(f"l{i}", "69123", 10_000)
    pay("l0", "l1", "69123", 500)
    issue("s0", "42218", 50_000)
    for i in range(1, 6):
        issue(f"s{i}", "42218", 1_000)
        pay(f"s{i}", "s0", "42218", 100)
    issue("late", "38185", 7_000, day=TODAY)
    issue("ended", "38185", 3_000, day=TODAY.replace(day=1) - timedelta(days=1))
    return out


async def _feed(client: httpx.AsyncClient) -> None:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session, session.begin():
        for posted in _stream():
            event = new_event(posted, source="/proxima/ledger", subject=posted.transaction_id)
            await apply_transaction(session, event)


async def test_nothing_is_published_before_the_operator_opts_in(client: httpx.AsyncClient) -> None:
    await _feed(client)
    assert (await client.get(JSON_PATH)).json()["items"] == []
    one = await client.get(JSON_PATH, params={"currency": "MESURE"})
    assert one.status_code == 404 and one.json()["code"] == "opendata-not-published"
    refused = await client.put("/opendata/currencies/MESURE", headers=STRANGER)
    assert refused.status_code == 403
    assert (await client.put("/opendata/currencies/MESURE")).status_code == 401
    assert (await client.post(JSON_PATH)).status_code == 405


async def test_published_figures_withhold_small_and_dominated_territories(
    client: httpx.AsyncClient,
) -> None:
    await _feed(client)
    opted = await client.put("/opendata/currencies/MESURE", headers=OPERATOR)
    assert opted.status_code == 200, opted.text
    assert opted.json()["licence"] == "Licence Ouverte 2.0"

    answer = await client.get(JSON_PATH, params={"currency": "MESURE"})  # no token
    assert answer.status_code == 200, answer.text
    assert 'rel="license"' in answer.headers["link"]
    document = answer.json()
    assert document["licence"]["name"] == "Licence Ouverte 2.0"
    assert document["rules"]["min_accounts"] == 5 and document["rules"]["dominance_share"] == 0.5
    rows = {(r["territory"], r["period"]): r for r in document["items"]}
    assert {p for _, p in rows} == {CLOSED}, "months not settled yet are not published"
    grenoble = rows[("38185", CLOSED)]
    assert not grenoble["suppressed"]
    assert (grenoble["circulation"], grenoble["active_accounts"]) == (60_000, 6)
    assert grenoble["velocity"] is not None and grenoble["reconversion_leakage"] == 0.0
    for small in ("69123", "42218"):  # 2 accounts; one account holding most of the units
        row = rows[(small, CLOSED)]
        assert row["suppressed"] and row["circulation"] is None and row["active_accounts"] is None
    total = rows[(None, CLOSED)]
    assert not total["suppressed"] and total["active_accounts"] == 14
    # Two cells withheld: the total minus Grenoble gives only their sum.
    assert total["circulation"] - grenoble["circulation"] == 20_000 + 55_000

    same = await client.get(
        JSON_PATH, params={"currency": "MESURE"}, headers={"If-None-Match": answer.headers["etag"]}
    )
    assert same.status_code == 304
    assert "public" in answer.headers["cache-control"]

    # A late transfer into the published month: recomputed, not served from the cache.
    late = _tx(
        "late-lyon",
        [("iss", "issuer", None, -100), ("l2", "member", "69123", 100)],
        "issuance",
        OCTOBER,
    )
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session, session.begin():
        await apply_transaction(session, new_event(late, source="/proxima/ledger", subject="x"))
    updated = (await client.get(JSON_PATH, params={"currency": "MESURE"})).json()["items"]
    assert [r["active_accounts"] for r in updated if r["territory"] is None] == [15]


async def test_the_csv_has_french_headers_and_marks_the_secret(client: httpx.AsyncClient) -> None:
    await _feed(client)
    assert (await client.put("/opendata/currencies/MESURE", headers=OPERATOR)).status_code == 200
    answer = await client.get("/public/opendata/currency-figures.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(lines[0]) == [
        "monnaie",
        "territoire",
        "mois",
        "circulation_unites",
        "vitesse_circulation",
        "taux_fuite_reconversion",
        "comptes_actifs",
        "secret_statistique",
    ]
    by_territory = {line["territoire"]: line for line in lines}
    assert by_territory["69123"]["secret_statistique"] == "oui"
    assert by_territory["69123"]["circulation_unites"] == ""
    assert by_territory["38185"]["comptes_actifs"] == "6"
    assert by_territory["ensemble"]["secret_statistique"] == "non"


async def test_opting_out_withdraws_the_figures(client: httpx.AsyncClient) -> None:
    await _feed(client)
    assert (await client.put("/opendata/currencies/MESURE", headers=OPERATOR)).status_code == 200
    assert (await client.get(JSON_PATH)).json()["items"]
    assert (await client.delete("/opendata/currencies/MESURE", headers=OPERATOR)).status_code == 204
    assert (await client.get(JSON_PATH)).json()["items"] == []
    gone = await client.get("/opendata/currencies/MESURE", headers=OPERATOR)
    assert gone.status_code == 404
