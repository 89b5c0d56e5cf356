"""Idempotent requests: same key and same body replay the original answer (200), another
body under the key is refused (409). The key is claimed, and the answer stored, in the
request's own unit of work (`services.ledger.idempotency`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.idempotency import service as keys
from shared.auth import Principal
from shared.problems import Unprocessable

IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Same key and same body replay the original result; another body is a 409",
    ),
]
JSON = "application/json"


class IdempotencyKeysDiffer(Unprocessable):
    """The key was given twice, in the header and in the body, with two values."""

    code, title = "idempotency-keys-differ", "Two different idempotency keys"


@dataclass(frozen=True, slots=True)
class IdempotencyContext:
    """A keyed request's ``Idempotency-Key`` header and its route, as a replay must repeat
    it: the method and the matched route's template filled with the request's path
    parameters (``POST /transactions/{transaction_id}/reversal`` for one transaction)."""

    header: str | None
    route: str

    def key(self, body_key: str | None) -> str | None:
        """The request's key: the header's or the body's (they must agree)."""
        return pick_key(self.header, body_key)


async def idempotency_context(
    request: Request, idempotency_key: IdempotencyHeader = None
) -> IdempotencyContext:
    """Read from the route FastAPI matched (``scope["route"]``), so no endpoint spells its
    own path again, and two routes never share a key's meaning."""
    template = request.scope["route"].path_format
    params = {name: _canonical(value) for name, value in request.path_params.items()}
    return IdempotencyContext(idempotency_key, f"{request.method} {template.format(**params)}")


def _canonical(value: Any) -> Any:
    """A path parameter as the endpoint reads it: an id in UUID's one spelling (a key
    repeated with ``/transactions/ABC…`` or ``/transactions/abc…`` is the same request)."""
    if isinstance(value, str) and len(value) >= 32:
        try:
            return str(UUID(value))
        except ValueError:
            return value
    return value


Idempotency = Annotated[IdempotencyContext, Depends(idempotency_context)]
"""The dependency every keyed route takes (the header documented as before)."""


def request_hash(route: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"route": route, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def pick_key(header: str | None, body_key: str | None) -> str | None:
    if header is not None and body_key is not None and header != body_key:
        raise IdempotencyKeysDiffer("Idempotency-Key header and body idempotency_key differ")
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
    stored = await keys.claim(session, client_id=principal.client_id, key=key, digest=digest)
    if stored is not None:
        return JSONResponse(stored, status_code=200)
    result = await result_json()
    await keys.remember(session, client_id=principal.client_id, key=key, response=result)
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


# --- the posting paths: a compact record stored, the response written directly ------------


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


async def idempotent_json(
    session: AsyncSession,
    *,
    client_id: str,
    key: str | None,
    digest: Callable[[], str],
    run: Callable[[], Awaitable[tuple[str, Any]]],
    replay: Callable[[Any], Awaitable[str]],
    status_code: int = 201,
) -> Response:
    """`idempotent` for the posting paths: ``run`` returns the response as JSON text and a
    compact record of it (transaction ids, not the rendered transactions), which is what
    the key's row stores (``None``: ``run`` already stored it); a replay renders that
    record again with ``replay``. Same key and same body: the original result, with 200.
    Another body: 409."""
    if key is None:
        text, _ = await run()
        return Response(text, status_code=status_code, media_type=JSON)
    stored = await keys.claim(session, client_id=client_id, key=key, digest=digest())
    if stored is not None:
        return Response(await replay(stored), status_code=200, media_type=JSON)
    text, record = await run()
    if record is not None:  # None: ``run`` recorded it with its own writes
        await keys.remember(session, client_id=client_id, key=key, response=record)
    return Response(text, status_code=status_code, media_type=JSON)
