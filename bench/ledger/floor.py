"""The floor under the ledger's single-transfer rate: what our service stack answers on this
machine when an endpoint does nothing but one database statement. The app is built like
every Proxima service (`shared.service_app.build_service_app`: request-id and metrics
middleware, problem+json, the bearer-token check with its scope, a SQLAlchemy session per
request) and its one route validates the same transfer body, then runs one ``SELECT``.
``make bench-ledger`` runs it beside the ledger with the same wrk load and workers; its
ratio to pgbench bounds any design that answers one HTTP request per transfer with this
stack, whatever the posting path does.

Not a service: no posting, no idempotency, no events.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import text

from services.ledger.http.scopes import Poster
from services.ledger.settings import LedgerSettings
from shared.service_app import DbSession, build_service_app


class Leg(BaseModel):
    account_id: str
    currency: str
    amount: int


class Transfer(BaseModel):
    postings: list[Leg] = Field(min_length=2)


router = APIRouter()


@router.post("/transactions", status_code=201)
async def post(body: Transfer, principal: Poster, session: DbSession) -> dict[str, Any]:
    legs = {"n": len(body.postings)}
    n = (await session.execute(text("SELECT CAST(:n AS int)"), legs)).scalar_one()
    return {"postings": n, "client": principal.client_id}


def create_app() -> FastAPI:
    return build_service_app(
        LedgerSettings(run_background_tasks=False),
        title="Ledger floor",
        description="One statement per request, for bench/ledger.",
        routers=[router],
    )
