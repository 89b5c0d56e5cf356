"""Batches: up to 1,000 transactions, all-or-nothing or each on its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger import bulk
from services.ledger.api.common import (
    AUTH_ERRORS,
    IdempotencyHeader,
    Poster,
    idempotent_request,
)
from services.ledger.api.schemas import BatchCreate, BatchRead
from services.ledger.api.transactions import POSTING_ERRORS, legs_of, post_fields
from services.ledger.domain.errors import LedgerDomainError
from services.ledger.store import repository as repo
from shared.auth import Principal
from shared.problems import Problem, problem_body, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/batches", tags=["transactions"])


def _problem(exc: LedgerDomainError | Problem, index: int) -> dict[str, Any]:
    return problem_body(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        instance=f"/batches#items/{index}",
        **exc.extra,
    )


async def run_atomic(
    session: AsyncSession, principal: Principal, body: BatchCreate
) -> list[dict[str, Any]]:
    """Every item or none, through the bulk path."""
    currencies = sorted({p.currency for item in body.items for p in item.postings})
    for currency in currencies:
        principal.ensure_access("currencies", currency)
    views = await bulk.post_atomic(
        session,
        client_id=principal.client_id,
        items=[
            {
                "legs": legs_of(item),
                "kind": item.kind,
                "effective_date": item.effective_date,
                "description": item.description,
                "metadata": item.metadata,
            }
            for item in body.items
        ],
    )
    return [{"index": i, "status": 201, "transaction": v} for i, v in enumerate(views)]


async def run_independent(
    session: AsyncSession, principal: Principal, body: BatchCreate
) -> list[dict[str, Any]]:
    """Each item in its own savepoint, with its own result."""
    # Lock every account of the batch at once, in id order: two batches never deadlock.
    await repo.lock_accounts(session, (p.account_id for item in body.items for p in item.postings))
    results: list[dict[str, Any]] = []
    for index, item in enumerate(body.items):
        try:
            async with session.begin_nested():
                view = await post_fields(session, principal, item, None)
            results.append({"index": index, "status": 201, "transaction": view})
        except (LedgerDomainError, Problem) as exc:
            results.append({"index": index, "status": exc.status, "problem": _problem(exc, index)})
        except IntegrityError:
            results.append(
                {
                    "index": index,
                    "status": 409,
                    "problem": problem_body(
                        status=409,
                        code="conflict",
                        title="Refused by the database",
                        detail="a database constraint refused this item",
                        instance=f"/batches#items/{index}",
                    ),
                }
            )
    return results


async def run_batch(
    session: AsyncSession, principal: Principal, body: BatchCreate
) -> dict[str, Any]:
    run = run_atomic if body.mode == "atomic" else run_independent
    results = await run(session, principal, body)
    posted = sum(1 for r in results if r["status"] == 201)
    return {
        "mode": body.mode,
        "posted": posted,
        "failed": len(results) - posted,
        "results": results,
    }


@router.post(
    "",
    status_code=201,
    response_model=BatchRead,
    responses={
        200: {"model": BatchRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(*POSTING_ERRORS),
    },
)
async def post_batch(
    body: BatchCreate,
    principal: Poster,
    session: DbSession,
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """Post up to 1,000 transactions: ``atomic`` (all or nothing) or ``independent`` (per item)."""
    return await idempotent_request(
        session,
        model=BatchRead,
        principal=principal,
        header_key=idempotency_key,
        request=body,
        route="POST /batches",
        run=lambda: run_batch(session, principal, body),
    )
