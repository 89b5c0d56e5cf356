"""The soak's mixed load, all through the gateway as partners use it: keyed transfers
(paced, each key retried until answered so that every one can be counted afterwards),
balance reads, diagnostics aggregate reads, the grant workflow from application to a
tranche's payment order (the funding ↔ ledger saga on Kafka), and a dashboard listener
holding ``/api/stream`` open the whole time. What every client saw is tallied in
``Tally``; nothing here asserts: the caller judges the figures."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from tests.support import grant_flow
from tests.support.grant_flow import As

CURRENCY = "SOAK"
TERRITORY = "38185"
PAIRS = 8
GRANT_CENTS = 10_000  # 100 €, advance 30 €: thousands of cycles fit the envelope and mandate
ENVELOPE = "SOAK-2026"


@dataclass
class Tally:
    """What the clients saw, per kind of request."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    transport_errors: Counter[str] = field(default_factory=Counter)
    acknowledged: dict[str, str] = field(default_factory=dict)  # transfer key → tx id
    retried: int = 0
    grant_cycles: int = 0
    tranches_ordered: list[str] = field(default_factory=list)
    stream_events: int = 0
    stream_opened: int = 0

    def saw(self, kind: str, status: int) -> None:
        self.statuses.setdefault(kind, Counter())[status] += 1

    def requests(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    def server_errors(self) -> dict[str, int]:
        return {
            f"{kind} {status}": n
            for kind, counts in self.statuses.items()
            for status, n in counts.items()
            if status >= 500
        }


@dataclass
class World:
    """What the setup created: the actors' tokens and the accounts the load uses."""

    admin: str
    pairs: list[tuple[str, str]]
    project: str  # the applicant's account, linked to each application it files
    applicant: str
    instructor: str
    committee: str
    officer: str


def setup(gateway: str, admin_token: str) -> World:
    """Currencies, accounts, the programme with a roomy envelope, the actors' clients."""
    admin = As(gateway, admin_token)
    accounts = grant_flow.ledger_setup(admin)
    grant_flow.open_programme(admin)
    admin.ok(
        "POST",
        f"/funding/programmes/{grant_flow.PROGRAMME}/envelopes",
        201,
        json={"code": ENVELOPE, "year": 2026, "ap_cents": 10**11, "cp_cents": 10**11},
    )
    admin.ok(
        "POST",
        "/ledger/currencies",
        201,
        json={
            "code": CURRENCY,
            "kind": "mutual_credit",
            "operator": "Réseau d'endurance",
            "rules": {"credit_limit": {"default_limit": 10**12, "max_limit": 10**12}},
        },
    )
    pairs = []
    for _ in range(PAIRS):
        ids = []
        for limit in (10**12, None):
            body: dict[str, Any] = {"currency": CURRENCY, "type": "member", "territory": TERRITORY}
            if limit:
                body["credit_limit"] = limit
            ids.append(admin.ok("POST", "/ledger/accounts", 201, json=body)["id"])
        pairs.append((ids[0], ids[1]))

    def actor(client_id: str, role: str, scopes: list[str]) -> str:
        return grant_flow.client_token(gateway, admin_token, client_id, role, scopes)

    return World(
        admin=admin_token,
        pairs=pairs,
        project=accounts["project"],
        applicant=actor(
            grant_flow.APPLICANT,
            "applicant",
            ["funding:apply", "funding:read", "ledger:read", "ledger:post"],
        ),
        instructor=actor("acc-isere", "instructor", ["funding:instruct", "funding:read"]),
        committee=actor("secretariat", "committee", ["funding:decide", "funding:read"]),
        officer=actor(
            "officer",
            "programme_officer",
            ["funding:instruct", "funding:read", "funding:pay"],
        ),
    )


class Load:
    """The load's clients, sharing one tally; ``stop`` ends them all."""

    def __init__(self, gateway: str, world: World, tally: Tally, stop: asyncio.Event) -> None:
        self.gateway = gateway
        self.world = world
        self.tally = tally
        self.stop = stop
        # An idle connection is given up after 2 s, before uvicorn closes it (its keep-alive
        # timeout is 5 s, httpx's default expiry is 5 s too): with equal timeouts a request
        # sent on a connection the server is closing that instant fails with ReadError, as
        # a grant client idle through a long cycle once did (1 in 12,025 requests).
        self.limits = httpx.Limits(
            max_connections=32, max_keepalive_connections=32, keepalive_expiry=2.0
        )

    def client(self, token: str, timeout: float | None = 30) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"{self.gateway}/api",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            limits=self.limits,
        )

    async def call(
        self, api: httpx.AsyncClient, kind: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        try:
            response = await api.request(method, path, **kw)
        except httpx.HTTPError as exc:
            self.tally.transport_errors[f"{kind}: {type(exc).__name__}"] += 1
            self.tally.saw(kind, 0)
            return None
        self.tally.saw(kind, response.status_code)
        return response

    async def transfers(self, worker: int, rate_per_s: float) -> None:
        """Keyed transfers at ``rate_per_s``; a key is sent again (same key) until answered."""
        rng = random.Random(worker)
        interval = 1 / rate_per_s
        async with self.client(self.world.admin) as api:
            i = 0
            next_at = time.monotonic()
            while not self.stop.is_set():
                key = f"soak-{worker}-{i}"
                i += 1
                payer, payee = self.world.pairs[rng.randrange(PAIRS)]
                amount = rng.randint(1, 500)
                body = {
                    "kind": "transfer",
                    "metadata": {"soak_key": key},
                    "postings": [
                        {"account_id": payer, "currency": CURRENCY, "amount": -amount},
                        {"account_id": payee, "currency": CURRENCY, "amount": amount},
                    ],
                }
                for attempt in range(20):
                    r = await self.call(
                        api,
                        "transfer",
                        "POST",
                        "/ledger/transactions",
                        json=body,
                        headers={"Idempotency-Key": key},
                    )
                    if r is not None and r.status_code < 500:
                        if r.status_code in (200, 201):
                            self.tally.acknowledged[key] = r.json()["id"]
                        break
                    self.tally.retried += 1
                    await asyncio.sleep(0.2 * (attempt + 1))
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def reads(self, period_s: float) -> None:
        """Balance reads and diagnostics aggregate reads, alternately."""
        rng = random.Random(99)
        month = date.today().strftime("%Y-%m")
        async with self.client(self.world.admin) as api:
            while not self.stop.is_set():
                account = rng.choice(rng.choice(self.world.pairs))
                await self.call(api, "balance", "GET", f"/ledger/accounts/{account}")
                await self.call(
                    api,
                    "diagnostics",
                    "GET",
                    "/diagnostics/aggregates",
                    params={"territory": TERRITORY, "currency": CURRENCY, "period": month},
                )
                await asyncio.sleep(period_s)

    async def grants(self, pause_s: float) -> None:
        """Application → instruction → committee vote and decision → convention → payment
        order of the advance, again and again; the tranche's settlement (ledger posting,
        event back to funding) is checked by the caller once the load has stopped."""
        w = self.world
        async with (
            self.client(w.applicant) as applicant,
            self.client(w.instructor) as instructor,
            self.client(w.committee) as committee,
            self.client(w.officer) as officer,
        ):
            n = 0
            while not self.stop.is_set():
                n += 1
                if await self._grant_cycle(n, applicant, instructor, committee, officer):
                    self.tally.grant_cycles += 1
                await asyncio.sleep(pause_s)

    async def _grant_cycle(
        self,
        n: int,
        applicant: httpx.AsyncClient,
        instructor: httpx.AsyncClient,
        committee: httpx.AsyncClient,
        officer: httpx.AsyncClient,
    ) -> bool:
        """One application to its advance's payment order; False at the first step refused."""

        async def step(who: httpx.AsyncClient, method: str, path: str, body: Any) -> Any:
            r = await self.call(who, "grant", method, path, json=body)
            if r is None or r.status_code >= 300:
                return None
            return r.json() if r.content else {}

        created = await step(
            applicant,
            "POST",
            "/funding/applications",
            {
                "envelope_code": ENVELOPE,
                "applicant_name": "SCIC Monnaie du Grésivaudan",
                "legal_form": "scic",
                "project_stage": "creation",
                "title": f"Projet d'endurance n° {n}",
                "commune_insee_code": grant_flow.COMMUNE,
                "requested_amount_cents": GRANT_CENTS,
            },
        )
        if created is None:
            return False
        app = f"/funding/applications/{created['id']}"
        link = {"programme_code": grant_flow.PROGRAMME, "application_id": created["id"]}
        path = f"/ledger/accounts/{self.world.project}/grant-links"
        if await step(applicant, "POST", path, link) is None:
            return False

        def move(action: str, **fields: Any) -> dict[str, Any]:
            return {"action": action, "fields": fields}

        for who, body in (
            (applicant, move("submit")),
            (instructor, move("start_instruction")),
            (instructor, move("send_to_committee", instruction_summary="Projet ancré")),
        ):
            if await step(who, "POST", f"{app}/transitions", body) is None:
                return False
        members = ["m1", "m2", "m3"]
        session = await step(
            committee,
            "POST",
            "/funding/committee-sessions",
            {
                "programme_code": grant_flow.PROGRAMME,
                "title": f"Comité d'endurance n° {n}",
                "scheduled_at": "2026-11-30T09:00:00+01:00",
                "members": members,
            },
        )
        if session is None:
            return False
        sessions = f"/funding/committee-sessions/{session['id']}"
        steps: list[tuple[httpx.AsyncClient, str, Any]] = [
            (committee, f"{sessions}/agenda", {"application_id": created["id"]}),
            (committee, f"{sessions}/open", {"attendees": members}),
            *(
                (
                    committee,
                    f"{sessions}/votes",
                    {"application_id": created["id"], "member_id": m, "choice": "for"},
                )
                for m in members
            ),
            (
                committee,
                f"{sessions}/decisions",
                {
                    "application_id": created["id"],
                    "outcome": "approved",
                    "amount_cents": GRANT_CENTS,
                    "deliberation_number": f"CP-SOAK-{n}",
                },
            ),
            (officer, f"{app}/transitions", move("sign_convention", convention_reference=f"CV{n}")),
            (officer, f"{app}/transitions", move("start_payment")),
        ]
        for who, path, body in steps:
            if await step(who, "POST", path, body) is None:
                return False
        tranches = await step(officer, "GET", f"{app}/tranches", None)
        if tranches is None:
            return False
        advance = min(tranches["items"], key=lambda t: t["number"])
        order = {"mode": "local_currency", "currency_code": grant_flow.CURRENCY}
        path = f"/funding/tranches/{advance['id']}/payment-orders"
        if await step(officer, "POST", path, order) is None:
            return False
        self.tally.tranches_ordered.append(advance["id"])
        return True

    async def dashboard(self) -> None:
        """The dashboard's listener: ``/api/stream`` held open, reopened if it ends (a
        token's expiry closes it); the caller cancels it once the load has stopped."""
        async with self.client(self.world.admin, timeout=None) as api:
            while not self.stop.is_set():
                try:
                    async with api.stream("GET", "/stream") as response:
                        self.tally.saw("stream", response.status_code)
                        if response.status_code != 200:
                            await asyncio.sleep(1)
                            continue
                        self.tally.stream_opened += 1
                        await self._read_stream(response)
                except httpx.HTTPError as exc:
                    self.tally.transport_errors[f"stream: {type(exc).__name__}"] += 1
                    await asyncio.sleep(1)

    async def _read_stream(self, response: httpx.Response) -> None:
        """Count the events; the caller cancels this task when the load stops."""
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                try:
                    json.loads(line[5:])
                except ValueError:
                    continue
                self.tally.stream_events += 1
