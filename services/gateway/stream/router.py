"""``GET /api/stream`` (Server-Sent Events) and ``GET /api/dashboard/summary``.

The page loads the summary (which says up to which stream position it is computed), then
opens the stream from that position: nothing is missed and nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.gateway.domain.dashboard import summarize
from services.gateway.domain.tenancy import TenantFilter
from services.gateway.stream import repository
from services.gateway.stream.hub import (
    STREAM_CLOSED,
    StreamHub,
    StreamItem,
    Subscriber,
    TooManyStreams,
)
from shared.auth import Principal, require_scope
from shared.problems import Forbidden, Problem, Unauthorized, problem_responses

DASHBOARD_SCOPE = "dashboard:read"
REPLAY_PAGE = 500
STREAM_RETRY_AFTER_S = 5
router = APIRouter(tags=["live dashboard"], responses=problem_responses(Unauthorized, Forbidden))
Viewer = Annotated[Principal, Depends(require_scope(DASHBOARD_SCOPE))]
StreamViewer = Annotated[Principal, Depends(require_scope(DASHBOARD_SCOPE, allow_query_token=True))]


class DashboardSummary(BaseModel):
    as_of: int
    generated_at: datetime
    territories: list[dict[str, Any]]
    engine_shares: list[dict[str, Any]]
    programmes: list[dict[str, Any]]
    ledger: list[dict[str, Any]]


@router.get("/api/dashboard/summary", response_model=DashboardSummary)
async def dashboard_summary(request: Request, principal: Viewer) -> DashboardSummary:
    """Current dashboard figures visible to the caller, and the stream position they reach."""
    engine = request.app.state.engine
    tenants = TenantFilter.of(principal)
    # One snapshot: the figures and ``as_of`` describe the same moment.
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            _, latest = await repository.bounds(conn)
            rows = await repository.state_rows(conn, tenants)
    return DashboardSummary(as_of=latest, generated_at=datetime.now(UTC), **summarize(rows))


class TooManyStreamsProblem(Problem):
    status, code, title = 429, "too-many-streams", "Too many open streams for this client"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(STREAM_RETRY_AFTER_S)}


@router.get(
    "/api/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Event stream"},
        **problem_responses(TooManyStreamsProblem),
    },
)
async def stream(
    request: Request,
    principal: StreamViewer,
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[int | None, Query(ge=0, description="Resume after this position")] = None,
) -> EventSourceResponse:
    """Live events visible to the caller; resumes after ``Last-Event-ID`` (or ``?since=``).

    The stream ends with a ``closed`` event (``{"reason": "token-expired"}`` or
    ``"token-revoked"``) when its token expires, or its client is revoked, changed or its
    signing key withdrawn: reconnect with a new token. A client has at most
    ``stream_max_connections_per_client`` streams open on a gateway replica (then 429)."""
    hub: StreamHub = request.app.state.stream_hub
    settings = request.app.state.settings
    resume = _position(last_event_id) if last_event_id is not None else since
    # Everything dispatched from now on reaches the queue; what came before is either
    # replayed from the table or, without a resume point, not this client's business.
    try:
        subscriber = hub.subscribe(principal)
    except TooManyStreams as exc:
        raise TooManyStreamsProblem(
            f"at most {exc.limit} open streams per client: close one first"
        ) from exc
    start = hub.last_position
    guard = TokenGuard(
        request.app.state.token_verifier,
        getattr(request.state, "access_token", None),
        principal,
        recheck_s=settings.stream_auth_recheck_s,
    )
    events = _events(request, hub, subscriber, principal, guard, resume=resume, start=start)
    # The generator unsubscribes when it ends; one never started (the client went away
    # before the first byte) runs no `finally`: its place is freed when it is collected.
    weakref.finalize(events, hub.unsubscribe, subscriber)
    return EventSourceResponse(
        events,
        ping=settings.stream_heartbeat_s,
        send_timeout=30,
        headers={"Cache-Control": "no-store"},
    )


def _position(header: str) -> int | None:
    return int(header) if header.strip().isdigit() else None


class TokenGuard:
    """Whether an open stream's token still holds: not past its ``exp``, and (checked every
    ``recheck_s``) still accepted by the gateway's verifier: client not revoked nor changed
    since, signing key not withdrawn."""

    def __init__(
        self, verifier: Any, token: str | None, principal: Principal, *, recheck_s: float
    ) -> None:
        self.verifier = verifier
        self.token = token
        self.expires_at = principal.expires_at or float("inf")
        self.recheck_s = recheck_s
        self.next_check = time.monotonic() + recheck_s

    def seconds_to_next_check(self) -> float:
        until_expiry = self.expires_at - time.time()
        return max(0.0, min(until_expiry, self.next_check - time.monotonic()))

    def refusal(self, *, force: bool = False) -> str | None:
        """Why the stream must close now, or None."""
        if time.time() >= self.expires_at:
            return "token-expired"
        if not force and time.monotonic() < self.next_check:
            return None
        self.next_check = time.monotonic() + self.recheck_s
        if self.token is not None:
            try:
                self.verifier.verify(self.token)
            except Problem:
                return "token-revoked"
        return None


def _closed(reason: str) -> ServerSentEvent:
    STREAM_CLOSED.labels(reason).inc()
    return ServerSentEvent(event="closed", data=json.dumps({"reason": reason}))


async def _events(
    request: Request,
    hub: StreamHub,
    subscriber: Subscriber,
    principal: Principal,
    guard: TokenGuard,
    *,
    resume: int | None,
    start: int,
) -> AsyncIterator[ServerSentEvent]:
    sent = start  # the highest position this client is known to be in sync with
    try:
        yield ServerSentEvent(event="hello", data=f'{{"position":{start}}}', retry=3000)
        if resume is not None:
            async for event, position in _replay(request, principal, resume):
                if (reason := guard.refusal()) is not None:
                    yield _closed(reason)
                    return
                yield event
                sent = max(sent, position)
        while True:
            item: StreamItem | None | object = _NOTHING
            try:
                async with asyncio.timeout(guard.seconds_to_next_check()):
                    item = await subscriber.queue.get()
            except TimeoutError:
                pass
            if (reason := guard.refusal()) is not None:
                yield _closed(reason)
                return
            if item is _NOTHING:
                continue
            if item is None:
                yield ServerSentEvent(event="dropped", data='{"reason":"client too slow"}')
                return
            assert isinstance(item, StreamItem)
            if item.position > sent:
                sent = item.position
                yield ServerSentEvent(data=item.payload, id=str(item.position))
    finally:
        hub.unsubscribe(subscriber)


_NOTHING = object()


async def _replay(
    request: Request, principal: Principal, resume: int
) -> AsyncIterator[tuple[ServerSentEvent, int]]:
    """Rows after ``resume`` from the table; a ``reset`` event when they cannot all be
    replayed (pruned, too many, or an id from another database) so the page reloads.

    A pooled connection is held only while one page is read, never while the client
    receives it: a client reading slowly (or not at all) must not keep a connection from
    everyone else."""
    settings = request.app.state.settings
    tenants = TenantFilter.of(principal)
    engine = request.app.state.engine
    async with engine.connect() as conn:
        oldest, latest = await repository.bounds(conn)
    if resume > latest or resume < oldest - 1 or latest - resume > settings.stream_replay_limit:
        yield ServerSentEvent(event="reset", data=f'{{"as_of":{latest}}}'), latest
        return
    position = resume
    while True:
        async with engine.connect() as conn:
            rows = await repository.rows_after(
                conn, position=position, tenants=tenants, limit=REPLAY_PAGE
            )
        for row in rows:
            item = StreamItem.of(row._mapping)
            yield ServerSentEvent(data=item.payload, id=str(item.position)), item.position
        if len(rows) < REPLAY_PAGE:
            return
        position = rows[-1].position
