"""A running funding app on a freshly migrated database, actors with their tokens, and a
`Funding` helper that drives a file through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.funding.app import create_app
from services.funding.settings import FundingSettings
from tests.support.apps import serve
from tests.support.tokens import bearer, jwks_json

PROGRAMME = "IDECLIC"
ENVELOPE = "IDECLIC-2026"
COMMUNE = "38185"  # Grenoble, Isère


def funding_settings(db_url: str, events_url: str, documents: Path) -> FundingSettings:
    return FundingSettings(
        env="test",
        database_url=db_url,
        events_database_url=events_url,
        jwks_json=jwks_json(),
        log_json=False,
        relay_poll_interval_s=0.1,
        consumer_retry_base_s=0.01,
        documents_dir=documents,
    )


def actor(
    role: str,
    *scopes: str,
    client_id: str | None = None,
    programmes: tuple[str, ...] = (PROGRAMME,),
    territories: tuple[str, ...] = ("*",),
    envelopes: tuple[str, ...] = (),
) -> dict[str, str]:
    """Headers of a client with a workflow role, scopes and tenant bindings."""
    return bearer(
        scopes=list(scopes),
        role=role,
        client_id=client_id or role,
        tenants={
            "programmes": list(programmes),
            "territories": list(territories),
            "envelopes": list(envelopes),
        },
    )


ADMIN = actor("regional_admin", "funding:admin", "funding:read", "funding:instruct", "funding:pay")
APPLICANT = actor("applicant", "funding:apply", "funding:read", client_id="scic-42")
INSTRUCTOR = actor("instructor", "funding:instruct", "funding:read", client_id="acc-isere")
OFFICER = actor(
    "programme_officer", "funding:instruct", "funding:read", "funding:pay", client_id="officer"
)
COMMITTEE = actor("committee", "funding:decide", "funding:read", client_id="secretary")


@pytest.fixture
def funding_db(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("funding")


@pytest.fixture
def events_db(new_database: Callable[[str], str]) -> str:
    return new_database("events")


@pytest.fixture
async def client(
    funding_db: str, events_db: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = funding_settings(funding_db, events_db, tmp_path / "documents")
    async with serve(create_app, settings) as c:
        yield c


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


class Funding:
    """Factories over the API: a programme, an envelope, files moved along the workflow."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def programme(self, code: str = PROGRAMME, **overrides: Any) -> dict[str, Any]:
        body = {
            "code": code,
            "name": "IDéclic Solidaire projet",
            "operator": "Région Rhône-Alpes",
            "eligible_territories": ["38", "26", "69"],
            "legal_forms": ["association", "scic", "scop"],
            "project_stages": ["emergence", "creation", "development"],
            **overrides,
        }
        return ok(await self.client.post("/programmes", json=body, headers=ADMIN), 201)

    async def envelope(
        self,
        code: str = ENVELOPE,
        *,
        programme: str = PROGRAMME,
        ap: int = 10_000_000,
        cp: int = 10_000_000,
    ) -> dict[str, Any]:
        body = {"code": code, "year": 2026, "ap_cents": ap, "cp_cents": cp}
        return ok(
            await self.client.post(f"/programmes/{programme}/envelopes", json=body, headers=ADMIN),
            201,
        )

    async def accompanist(
        self, ident: str = "acc-isere", territories: tuple[str, ...] = ("38",)
    ) -> None:
        body = {"id": ident, "name": "Accompagnateur Isère", "territories": list(territories)}
        ok(await self.client.post("/accompanists", json=body, headers=ADMIN), 201)

    async def setup(self, **envelope: Any) -> None:
        await self.programme()
        await self.envelope(**envelope)
        await self.accompanist()

    async def draft(
        self,
        *,
        amount: int = 1_500_000,
        commune: str = COMMUNE,
        headers: dict[str, str] = APPLICANT,
        envelope: str = ENVELOPE,
        **fields: Any,
    ) -> dict[str, Any]:
        """A draft application; ``fields`` override the body's (``applicant_name``, …)."""
        body = {
            "envelope_code": envelope,
            "applicant_name": "SCIC Énergies citoyennes",
            "legal_form": "scic",
            "project_stage": "creation",
            "title": "Monnaie locale du Grésivaudan",
            "commune_insee_code": commune,
            "requested_amount_cents": amount,
            **fields,
        }
        return ok(await self.client.post("/applications", json=body, headers=headers), 201)

    async def act(
        self, application_id: str, action: str, headers: dict[str, str], **fields: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/applications/{application_id}/transitions",
            json={"action": action, "fields": fields},
            headers=headers,
        )

    async def to_committee(self, **draft: Any) -> str:
        """A file filed, submitted, instructed and sent to committee; returns its id."""
        application_id = str((await self.draft(**draft))["id"])
        ok(await self.act(application_id, "submit", APPLICANT))
        ok(await self.act(application_id, "start_instruction", INSTRUCTOR))
        ok(
            await self.act(
                application_id,
                "send_to_committee",
                INSTRUCTOR,
                instruction_summary="Solid project, local anchoring",
            )
        )
        return application_id

    async def session(
        self, members: tuple[str, ...] = ("m1", "m2", "m3"), quorum: int | None = None
    ) -> str:
        body: dict[str, Any] = {
            "programme_code": PROGRAMME,
            "title": "Comité IDéclic novembre",
            "scheduled_at": "2026-11-30T09:00:00+01:00",
            "members": list(members),
        }
        if quorum is not None:
            body["quorum"] = quorum
        return str(
            ok(await self.client.post("/committee-sessions", json=body, headers=COMMITTEE), 201)[
                "id"
            ]
        )

    async def on_agenda(self, session_id: str, application_id: str) -> None:
        ok(
            await self.client.post(
                f"/committee-sessions/{session_id}/agenda",
                json={"application_id": application_id},
                headers=COMMITTEE,
            )
        )

    async def open(self, session_id: str, attendees: tuple[str, ...] = ("m1", "m2", "m3")) -> None:
        ok(
            await self.client.post(
                f"/committee-sessions/{session_id}/open",
                json={"attendees": list(attendees)},
                headers=COMMITTEE,
            )
        )

    async def vote(
        self, session_id: str, application_id: str, member: str, choice: str
    ) -> httpx.Response:
        return await self.client.post(
            f"/committee-sessions/{session_id}/votes",
            json={"application_id": application_id, "member_id": member, "choice": choice},
            headers=COMMITTEE,
        )

    async def decide(self, session_id: str, application_id: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/committee-sessions/{session_id}/decisions",
            json={"application_id": application_id, **body},
            headers=COMMITTEE,
        )

    async def approved(
        self, amount: int = 1_500_000, *, deliberation: str = "CP-2026-11-001", **draft: Any
    ) -> str:
        """A file approved by a committee for ``amount`` cents; returns its id."""
        draft.setdefault("amount", amount)
        application_id = await self.to_committee(**draft)
        session_id = await self.session()
        await self.on_agenda(session_id, application_id)
        await self.open(session_id)
        for member in ("m1", "m2", "m3"):
            ok(await self.vote(session_id, application_id, member, "for"), 204)
        ok(
            await self.decide(
                session_id,
                application_id,
                outcome="approved",
                amount_cents=amount,
                deliberation_number=deliberation,
            ),
            201,
        )
        return application_id

    async def tranches(
        self, application_id: str, headers: dict[str, str] = OFFICER
    ) -> list[dict[str, Any]]:
        page = ok(
            await self.client.get(f"/applications/{application_id}/tranches", headers=headers)
        )
        return sorted(page["items"], key=lambda t: t["number"])

    async def application(
        self, application_id: str, headers: dict[str, str] = OFFICER
    ) -> dict[str, Any]:
        return ok(await self.client.get(f"/applications/{application_id}", headers=headers))

    async def envelope_figures(self, code: str = ENVELOPE) -> dict[str, Any]:
        return ok(await self.client.get(f"/envelopes/{code}", headers=ADMIN))


@pytest.fixture
async def funding(client: httpx.AsyncClient) -> Funding:
    helper = Funding(client)
    await helper.setup()
    return helper
