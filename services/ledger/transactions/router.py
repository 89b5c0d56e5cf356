"""Transactions (`router`: post, read, list, reverse) and batches (`batch_router`: up to
1,000 transactions, all-or-nothing or each on its own). HTTP only."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority.errors import NoReadAuthority, OperatorActRequired
from services.ledger.http.bodies import body_schema, parse_body
from services.ledger.http.idempotency import (
    JSON,
    Idempotency,
    body_digest,
    idempotent,
    idempotent_json,
    sort_metadata,
)
from services.ledger.http.pagination import Cursor, InvalidCursor, Limit, decode_cursor, page
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Poster, Reader, Reverser
from services.ledger.transactions.errors import AlreadyReversed
from services.ledger.transactions.schemas import (
    POSTING_ERRORS,
    BatchCreate,
    BatchRead,
    ReversalCreate,
    TransactionCreate,
    TransactionPage,
    TransactionRead,
    atomic_json,
    json_text,
    view_json,
)
from services.ledger.transactions.service import batch, batch_call, reversal, single
from services.ledger.transactions.service.committer import PostingQueueFull, committer_of
from services.ledger.transactions.service.group import Item, Replay
from shared.auth import Principal
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/transactions", tags=["transactions"])
batch_router = APIRouter(prefix="/batches", tags=["transactions"])


@router.post(
    "",
    status_code=201,
    response_model=TransactionRead,
    openapi_extra=body_schema(TransactionCreate),
    responses={
        200: {"model": TransactionRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(*POSTING_ERRORS, PostingQueueFull),
    },
)
async def post_transaction(
    request: Request,
    principal: Poster,
    session: DbSession,
    idempotency: Idempotency,
) -> Any:
    """Post a balanced transaction: postings of each currency sum to zero.

    Concurrent requests are posted together, each with its own answer (group commit); a
    full queue answers 503 with ``Retry-After``."""
    # The hottest write: the body is validated from its bytes (`parse_body`), the answer
    # written without a response model, and the key's row keeps the transaction's id.
    body = await parse_body(TransactionCreate, request)
    sort_metadata((body,))
    key = idempotency.key(body.idempotency_key)
    if request.app.state.settings.group_commit_max_items > 0:
        digest = body_digest(idempotency.route, body) if key is not None else None
        outcome = await committer_of(request.app.state).submit(
            Item(principal=principal, body=body, key=key, digest=digest)
        )
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, Replay):
            return Response(await replay(session, outcome.record), status_code=200, media_type=JSON)
        return Response(view_json(outcome), status_code=201, media_type=JSON)

    async def run() -> tuple[str, None]:
        # The transaction's INSERT also records it as the key's answer (`insert_transaction`).
        return view_json(await single.post_request(session, principal, body, key)), None

    return await idempotent_json(
        session,
        client_id=principal.client_id,
        key=key,
        digest=lambda: body_digest(idempotency.route, body),
        run=run,
        replay=lambda record: replay(session, record),
    )


async def replay(session: AsyncSession, record: Any) -> str:
    """A posted transaction's response again, from what its key's row kept."""
    if record.get("replay") != "transaction":
        return json_text(record)
    return view_json(await single.load_transaction(session, UUID(record["id"])))


@router.get(
    "",
    response_model=TransactionPage,
    responses={**AUTH_ERRORS, **problem_responses(InvalidCursor, OperatorActRequired)},
)
async def list_transactions(
    principal: Reader,
    session: DbSession,
    currency: Annotated[str, Query(pattern=CODE)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Transactions touching one currency, in posting order (the operator's read)."""
    found = await single.list_transactions(
        session, principal, currency=currency, after=decode_cursor(cursor, int), limit=limit
    )
    seqs = {view["id"]: seq for view, seq in found}
    return page([view for view, _ in found], limit=limit, key=lambda t: seqs[t["id"]])


@router.get(
    "/{transaction_id}",
    response_model=TransactionRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoReadAuthority)},
)
async def get_transaction(transaction_id: UUID, principal: Reader, session: DbSession) -> Any:
    """One transaction with its postings."""
    return await single.read_transaction(session, principal, transaction_id)


@router.post(
    "/{transaction_id}/reversal",
    status_code=201,
    response_model=TransactionRead,
    responses={
        200: {"model": TransactionRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(NotFound, AlreadyReversed, *POSTING_ERRORS, OperatorActRequired),
    },
)
async def reverse_transaction(
    transaction_id: UUID,
    body: ReversalCreate,
    principal: Reverser,
    session: DbSession,
    idempotency: Idempotency,
) -> Any:
    """Post the exact opposite of a transaction, linked to it (the ledger is append-only).

    It debits the original's payees: the caller needs authority over them (a payee
    refunding, or the operator); an operator act is reversed only by the operator."""
    key = idempotency.key(body.idempotency_key)
    return await idempotent(
        session,
        model=TransactionRead,
        principal=principal,
        key=key,
        route=idempotency.route,
        body=body.model_dump(mode="json", exclude={"idempotency_key"}),
        run=lambda: reversal.reverse_request(
            session,
            principal,
            transaction_id,
            description=body.description,
            idempotency_key=key,
        ),
    )


# --- batches -------------------------------------------------------------------------------


async def run_batch(
    session: AsyncSession, principal: Principal, body: BatchCreate
) -> tuple[str, Any]:
    """The response as JSON text, and what the idempotency key's row keeps of it: an
    atomic batch's transaction ids (a replay reads them back), or an independent batch's
    whole response (its refusals exist nowhere else)."""
    if body.mode == "atomic":
        posted = await batch.post_atomic_request(session, principal, body)
        text = atomic_json(
            [(tx, ((p.account_id, p.currency, p.amount) for p in legs)) for tx, legs in posted]
        )
        return text, {"replay": "atomic-batch", "transactions": [str(tx["id"]) for tx, _ in posted]}
    results = await batch.post_independent(session, principal, body)
    posted_count = sum(1 for r in results if r["status"] == 201)
    view = {
        "mode": body.mode,
        "posted": posted_count,
        "failed": len(results) - posted_count,
        "results": results,
    }
    record = BatchRead.model_validate(view).model_dump(mode="json")
    return json_text(record), record


async def replay_batch(session: AsyncSession, record: Any) -> str:
    """A batch's response again, from what its idempotency key's row kept."""
    if record.get("replay") != "atomic-batch":
        return json_text(record)
    ids = [UUID(i) for i in record["transactions"]]
    found = await single.transactions_with_legs(session, ids)
    return atomic_json([found[i] for i in ids])


@batch_router.post(
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
    idempotency: Idempotency,
) -> Any:
    """Post up to 1,000 transactions: ``atomic`` (all or nothing) or ``independent`` (per item)."""
    # The body is read and validated here, from its bytes, rather than by FastAPI (a JSON
    # parse into dicts, then a validation of the dicts). `body_schema` documents it as
    # FastAPI would.
    body = await parse_body(BatchCreate, request)
    sort_metadata(body.items)
    key = idempotency.key(body.idempotency_key)
    if body.mode == "atomic":
        # One round trip (`batch_call`); None: on the one-transaction path below, which
        # words the refusal.
        digest = body_digest(idempotency.route, body)
        done = await batch_call.post_atomic_call(
            request.app.state.engine, principal, body, key=key, digest=digest
        )
        if isinstance(done, batch_call.BatchReplay):
            text = await replay_batch(session, done.record)
            return Response(text, status_code=200, media_type=JSON)
        if done is not None:
            return Response(done, status_code=201, media_type=JSON)
    return await idempotent_json(
        session,
        client_id=principal.client_id,
        key=key,
        digest=lambda: body_digest(idempotency.route, body),
        run=lambda: run_batch(session, principal, body),
        replay=lambda record: replay_batch(session, record),
    )
