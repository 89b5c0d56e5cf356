"""Batches: up to 1,000 transactions, all-or-nothing or each on its own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger import bulk
from services.ledger.api.transactions import POSTING_ERRORS, post_fields
from services.ledger.authority import service as authority
from services.ledger.closings import service as closings
from services.ledger.errors import LedgerDomainError
from services.ledger.http.bodies import body_schema, parse_body
from services.ledger.http.idempotency import (
    IdempotencyHeader,
    body_digest,
    idempotent_json,
    pick_key,
    sort_metadata,
)
from services.ledger.http.scopes import AUTH_ERRORS, Poster
from services.ledger.store import repository as repo
from services.ledger.transactions.schemas import BatchCreate, BatchRead, json_text, transaction_json
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
) -> tuple[str, list[str]]:
    """Every item or none, through the bulk path: the response as JSON text, and the ids
    of the transactions posted."""
    currencies = sorted({p.currency for item in body.items for p in item.postings})
    for currency in currencies:
        principal.ensure_access("currencies", currency)
    await closings.check_effective_dates(
        session,
        [(item.effective_date, {p.currency for p in item.postings}) for item in body.items],
        batch=True,
    )
    posted = await bulk.post_atomic(session, actor=authority.actor(principal), items=body.items)
    text = atomic_json(
        [(tx, ((p.account_id, p.currency, p.amount) for p in legs)) for tx, legs in posted]
    )
    return text, [str(tx["id"]) for tx, _ in posted]


def atomic_json(posted: list[tuple[Any, Any]]) -> str:
    """An atomic batch's response as ``BatchRead`` renders it, written directly."""
    results = ",".join(
        f'{{"index":{i},"status":201,"transaction":{transaction_json(tx, legs)},"problem":null}}'
        for i, (tx, legs) in enumerate(posted)
    )
    return f'{{"mode":"atomic","posted":{len(posted)},"failed":0,"results":[{results}]}}'


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
) -> tuple[str, Any]:
    """The response as JSON text, and what the idempotency key's row keeps of it: an
    atomic batch's transaction ids (a replay reads them back), or an independent batch's
    whole response (its refusals exist nowhere else)."""
    if body.mode == "atomic":
        text, ids = await run_atomic(session, principal, body)
        return text, {"replay": "atomic-batch", "transactions": ids}
    results = await run_independent(session, principal, body)
    posted = sum(1 for r in results if r["status"] == 201)
    view = {
        "mode": body.mode,
        "posted": posted,
        "failed": len(results) - posted,
        "results": results,
    }
    record = BatchRead.model_validate(view).model_dump(mode="json")
    return json_text(record), record


async def replay_batch(session: AsyncSession, record: Any) -> str:
    """A batch's response again, from what its idempotency key's row kept."""
    if record.get("replay") != "atomic-batch":
        return json_text(record)
    ids = [UUID(i) for i in record["transactions"]]
    found = await repo.transactions_with_legs(session, ids)
    return atomic_json([found[i] for i in ids])


@router.post(
    "",
    status_code=201,
    response_model=BatchRead,
    openapi_extra=body_schema(BatchCreate),
    responses={
        200: {"model": BatchRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(*POSTING_ERRORS),
    },
)
async def post_batch(
    request: Request,
    principal: Poster,
    session: DbSession,
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """Post up to 1,000 transactions: ``atomic`` (all or nothing) or ``independent`` (per item)."""
    # The body is read and validated here, from its bytes, rather than by FastAPI (a JSON
    # parse into dicts, then a validation of the dicts): a quarter of a 1,000-item batch's
    # CPU. `body_schema` documents it as FastAPI would.
    body = await parse_body(BatchCreate, request)
    sort_metadata(body.items)
    return await idempotent_json(
        session,
        client_id=principal.client_id,
        key=pick_key(idempotency_key, body.idempotency_key),
        digest=lambda: body_digest("POST /batches", body),
        run=lambda: run_batch(session, principal, body),
        replay=lambda record: replay_batch(session, record),
    )
