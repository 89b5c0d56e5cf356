"""What every ledger router shares: scopes, keyset cursors, idempotency."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.account_lookup import require_account
from services.ledger.authority import service as authority
from services.ledger.errors import LedgerDomainError
from services.ledger.idempotency.errors import IdempotencyKeyReused
from services.ledger.instants import json_instant
from services.ledger.store import repository as repo
from shared.auth import Principal, require_scope
from shared.problems import (
    Forbidden,
    NotFound,
    Unauthorized,
    Unprocessable,
    problem_responses,
)

ADMIN = "ledger:admin"
POST = "ledger:post"
READ = "ledger:read"
# Operator acts, each under its own scope; the caller must also operate the currency
# (``ledger:admin`` bound to it), which `authority.service.ensure_operator` checks.
ISSUE = "ledger:issue"
RECONVERT = "ledger:reconvert"
DEMURRAGE = "ledger:demurrage"
SWEEP = "ledger:sweep"
REVERSE = "ledger:reverse"

Admin = Annotated[Principal, Depends(require_scope(ADMIN))]
Poster = Annotated[Principal, Depends(require_scope(POST))]
Reader = Annotated[Principal, Depends(require_scope(READ))]
Issuer = Annotated[Principal, Depends(require_scope(ISSUE))]
Reconverter = Annotated[Principal, Depends(require_scope(RECONVERT))]
DemurrageOperator = Annotated[Principal, Depends(require_scope(DEMURRAGE))]
Sweeper = Annotated[Principal, Depends(require_scope(SWEEP))]
Reverser = Annotated[Principal, Depends(require_scope(REVERSE))]

IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Same key and same body replay the original result; another body is a 409",
    ),
]

T = TypeVar("T")

AUTH_ERRORS = problem_responses(Unauthorized, Forbidden)


def request_hash(route: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"route": route, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def pick_key(header: str | None, body_key: str | None) -> str | None:
    if header is not None and body_key is not None and header != body_key:
        raise Unprocessable("Idempotency-Key header and body idempotency_key differ")
    return header or body_key


async def claim_key(
    session: AsyncSession,
    *,
    client_id: str,
    key: str,
    digest: str,
    legacy_digest: Callable[[], str] | None = None,
) -> Any:
    """Claim (client, key) for the request hashed as ``digest``: ``None`` if the key is new
    (the caller runs the request and stores its answer in the same transaction); the stored
    answer if the same request ran before; 409 for another request under the key, or for
    one whose answer is not stored.

    ``legacy_digest``, computed only when the new one differs, is the hash an older form of
    the posting paths stored (see `idempotent_json`)."""
    earlier = await repo.claim_idempotency_key(
        session, client_id=client_id, key=key, request_hash=digest
    )
    if earlier is None:
        return None
    same = earlier["request_hash"] == digest or (
        legacy_digest is not None and earlier["request_hash"] == legacy_digest()
    )
    if not same or earlier["response"] is None:
        raise IdempotencyKeyReused(
            "this idempotency key was used with a different request", idempotency_key=key
        )
    return earlier["response"]


async def idempotent(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    route: str,
    body: dict[str, Any],
    run: Callable[[], Awaitable[Any]],
    model: type[BaseModel],
    status_code: int = 201,
) -> JSONResponse:
    """Run ``run`` once per (client, key): a replay with the same body returns the stored
    result with 200, another body under the same key is refused with 409."""

    async def result_json() -> Any:
        return model.model_validate(await run()).model_dump(mode="json")

    if key is None:
        return JSONResponse(await result_json(), status_code=status_code)
    digest = request_hash(route, body)
    stored = await claim_key(session, client_id=principal.client_id, key=key, digest=digest)
    if stored is not None:
        return JSONResponse(stored, status_code=200)
    result = await result_json()
    await repo.remember_response(session, client_id=principal.client_id, key=key, response=result)
    return JSONResponse(result, status_code=status_code)


async def idempotent_request(
    session: AsyncSession,
    *,
    principal: Principal,
    header_key: str | None,
    request: BaseModel,
    route: str,
    run: Callable[[], Awaitable[Any]],
    model: type[BaseModel],
    status_code: int = 201,
) -> JSONResponse:
    """`idempotent` for a request body carrying an optional ``idempotency_key`` field: the
    key comes from the header or the body (they must agree), and the rest of the body is
    what a replay must repeat."""
    return await idempotent(
        session,
        principal=principal,
        key=pick_key(header_key, getattr(request, "idempotency_key", None)),
        route=route,
        body=request.model_dump(mode="json", exclude={"idempotency_key"}),
        run=run,
        model=model,
        status_code=status_code,
    )


# --- the posting paths: bodies parsed from bytes, responses written directly ---------------

M = TypeVar("M", bound=BaseModel)


def is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/…+json``, parameters aside."""
    main, _, sub = (content_type or "").partition(";")[0].strip().lower().partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def parse_body(model: type[M], request: Request) -> M:
    """The request's body validated as ``model`` in one pass over its bytes (pydantic-core
    parses the JSON itself: no intermediate dicts); a refusal is the 422 FastAPI gives,
    including for a body not sent as JSON (FastAPI's strict content type)."""
    raw = await request.body()
    if not is_json(request.headers.get("content-type")):
        raise RequestValidationError(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ("body",),
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": None,
                }
            ]
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:
            error["loc"] = ("body", *error["loc"])
        raise RequestValidationError(errors) from None


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body of ``model`` that the endpoint reads itself
    (`parse_body`): the model's JSON schema with its definitions inlined."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline(schema)}},
        }
    }


def json_text(value: Any) -> str:
    """``value`` as `JSONResponse` renders it (compact, non-ASCII kept)."""
    if not value and isinstance(value, dict | str):
        return "{}" if isinstance(value, dict) else '""'
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _transaction_text(
    tx_id: Any,
    kind: str,
    effective_date: str,
    inserted_at: str,
    description: str,
    metadata: Any,
    reverses: Any,
    legs: Iterable[tuple[Any, str, int]],
) -> str:
    """The one layout of a rendered transaction (see `transaction_json`)."""
    postings = ",".join(f'{{"account_id":"{a}","currency":"{c}","amount":{n}}}' for a, c, n in legs)
    reversed_id = f'"{reverses}"' if reverses else "null"
    return (
        f'{{"id":"{tx_id}","kind":{json_text(kind)},'
        f'"effective_date":"{effective_date}","inserted_at":"{inserted_at}",'
        f'"description":{json_text(description)},'
        f'"metadata":{json_text(metadata)},"reverses":{reversed_id},"postings":[{postings}]}}'
    )


def transaction_json(tx: Mapping[str, Any], legs: Iterable[tuple[Any, str, int]]) -> str:
    """A transaction exactly as ``TransactionRead`` renders it, written without the model
    (a unit test holds the two to the same text). Ids are UUIDs and currency codes match
    ``ck_currencies_code``, so they are written without escaping."""
    return _transaction_text(
        tx["id"],
        tx["kind"],
        tx["effective_date"].isoformat(),
        json_instant(tx["inserted_at"]),
        tx["description"],
        tx["metadata"],
        tx["reverses"],
        legs,
    )


def view_json(view: Mapping[str, Any]) -> str:
    """`transaction_json` for a transaction view of `service.transaction_view` (its
    instants and ids already strings)."""
    inserted_at = view["inserted_at"]
    if inserted_at.endswith("+00:00"):  # already a string: same rule as `json_instant`
        inserted_at = inserted_at[:-6] + "Z"
    return _transaction_text(
        view["id"],
        view["kind"],
        view["effective_date"],
        inserted_at,
        view["description"],
        view["metadata"],
        view["reverses"],
        ((p["account_id"], p["currency"], p["amount"]) for p in view["postings"]),
    )


def body_digest(route: str, body: BaseModel) -> str:
    """What a replay must repeat: the route and the validated body without its
    ``idempotency_key``, serialised by pydantic-core (field order fixed by the model;
    ``metadata`` maps sorted, as they are stored in jsonb where order means nothing)."""
    canonical = body.model_dump_json(exclude={"idempotency_key"})
    return hashlib.sha256(f"{route}\n{canonical}".encode()).hexdigest()


def sort_metadata(items: Iterable[Any]) -> None:
    """Sort the ``metadata`` map of each item in place (see `body_digest`)."""
    for item in items:
        if len(item.metadata) > 1:
            item.metadata = dict(sorted(item.metadata.items()))


async def visible_account(session: Any, principal: Principal, account_id: UUID) -> Any:
    """The account, if the caller may see its currency (404 if it does not exist, 403 if
    the caller's tenancy excludes it)."""
    row = await require_account(session, account_id)
    principal.ensure_access("currencies", row["currency"])
    return row


async def readable_account(session: Any, principal: Principal, account_id: UUID) -> Any:
    """The account, if the caller may read its postings: bound to its currency (403), and
    its holder, its operator or a mandate that includes reading (403)."""
    row = await visible_account(session, principal, account_id)
    await authority.ensure_may_read(session, authority.actor(principal), row)
    return row


async def readable_party(session: Any, principal: Principal, accounts: Iterable[UUID]) -> None:
    """Refuse unless the caller may read at least one of ``accounts`` (a hold's payer or
    payee, a transaction's legs)."""
    refusal: Exception | None = None
    for account_id in accounts:
        try:
            await readable_account(session, principal, account_id)
            return
        except LedgerDomainError as exc:
            refusal = exc
    if refusal is not None:
        raise refusal


AUDIT = "ledger:audit"
"""Reads every account of the currencies a client is bound to (an accountant, an auditor)."""


def ensure_operator_read(principal: Principal, currency: str, *, what: str) -> None:
    """Currency-wide lists of members' movements are for the operator, or an auditor
    (``ledger:audit`` bound to the currency)."""
    if AUDIT in principal.scopes and principal.may_access("currencies", currency):
        return
    authority.ensure_operator(principal, currency, act=f"reading {what}")


async def visible_currency(session: AsyncSession, principal: Principal, code: str) -> Any:
    """The currency, once the caller's tenant binding allows it (403) and it exists (404)."""
    principal.ensure_access("currencies", code)
    row = await repo.get_currency(session, code)
    if row is None:
        raise NotFound(f"no currency {code}")
    return row


JSON = "application/json"


async def idempotent_json(
    session: AsyncSession,
    *,
    client_id: str,
    key: str | None,
    digest: Callable[[], str],
    legacy_digest: Callable[[], str],
    run: Callable[[], Awaitable[tuple[str, Any]]],
    replay: Callable[[Any], Awaitable[str]],
    status_code: int = 201,
) -> Response:
    """`idempotent` for the posting paths: ``run`` returns the response as JSON text and a
    compact record of it (transaction ids, not the rendered transactions), which is what
    the key's row stores (``None``: ``run`` already stored it); a replay renders that
    record again with ``replay``.

    Same key and same body: the original result, with 200. Another body: 409. A key first
    used before this change stored a hash of the older canonical form (``legacy_digest``,
    computed only when the new one differs) and a full response (replayed as it is).
    """
    if key is None:
        text, _ = await run()
        return Response(text, status_code=status_code, media_type=JSON)
    stored = await claim_key(
        session, client_id=client_id, key=key, digest=digest(), legacy_digest=legacy_digest
    )
    if stored is not None:
        return Response(await replay(stored), status_code=200, media_type=JSON)
    text, record = await run()
    if record is not None:  # None: ``run`` recorded it with its own writes
        await repo.remember_response(session, client_id=client_id, key=key, response=record)
    return Response(text, status_code=status_code, media_type=JSON)
