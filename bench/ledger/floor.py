"""The floor under the ledger's single-transfer rate: what our stack (uvicorn, FastAPI, a
pydantic body, asyncpg) answers on this machine when an endpoint does nothing but one
database round trip. ``make bench-ledger`` runs it beside the ledger with the same wrk load
and the same workers; its ratio to pgbench bounds any design that answers one HTTP request
per transfer in Python here, whatever the posting path does.

Not a service: no auth, no idempotency, no write, only what every endpoint pays.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel, Field

from shared.db import plain_dsn
from shared.settings import ServiceSettings


class Leg(BaseModel):
    account_id: str
    currency: str
    amount: int


class Transfer(BaseModel):
    postings: list[Leg] = Field(min_length=2)


def create_app() -> FastAPI:
    settings = ServiceSettings(service_name="ledger-floor")
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool["db"] = await asyncpg.create_pool(plain_dsn(settings.database_url), max_size=10)
        try:
            yield
        finally:
            await pool["db"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/transactions", status_code=201)
    async def post(body: Transfer) -> dict[str, Any]:
        async with pool["db"].acquire() as conn:
            n = await conn.fetchval("SELECT $1::int", len(body.postings))
        return {"postings": n}

    return app
