"""What every ledger router shares: scopes, keyset cursors, idempotency."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.domain.errors import IdempotencyKeyReused, InvalidCursor
from services.ledger.store import repository as repo
from shared.auth import Principal, require_scope
from shared.problems import Forbidden, Unauthorized, Unprocessable, problem_responses

ADMIN = "ledger:admin"
POST = "ledger:post"
READ = "ledger:read"

Admin = Annotated[Principal, Depends(require_scope(ADMIN))]
Poster = Annotated[Principal, Depends(require_scope(POST))]
Reader = Annotated[Principal, Depends(require_scope(READ))]

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page")
]
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


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, parse: Callable[[str], T]) -> T | None:
    """The key a cursor carries, or InvalidCursor (422) for anything we did not produce."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return parse(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this API returned") from exc


def page(items: list[Any], *, limit: int, key: Callable[[Any], Any]) -> dict[str, Any]:
    """A page of at most ``limit`` items; ``next_cursor`` is null on the last page."""
    more = len(items) == limit
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if more else None}


def parse_uuid(raw: str) -> UUID:
    return UUID(raw)


def request_hash(route: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"route": route, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def pick_key(header: str | None, body_key: str | None) -> str | None:
    if header is not None and body_key is not None and header != body_key:
        raise Unprocessable("Idempotency-Key header and body idempotency_key differ")
    return header or body_key


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
    earlier = await repo.claim_idempotency_key(
        session, client_id=principal.client_id, key=key, request_hash=digest
    )
    if earlier is not None:
        if earlier["request_hash"] != digest or earlier["response"] is None:
            raise IdempotencyKeyReused(
                "this idempotency key was used with a different request", idempotency_key=key
            )
        return JSONResponse(earlier["response"], status_code=200)
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
    )
