"""``GET /api/stream`` (Server-Sent Events) and ``GET /api/dashboard/summary``.

The page loads the summary (which says up to which stream position it is computed), then
opens the stream from that position: nothing is missed and nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.gateway.domain.dashboard import summarize
from services.gateway.domain.tenancy import TenantFilter
from services.gateway.stream import repository
from services.gateway.stream.hub import StreamHub, StreamItem, Subscriber
from shared.auth import Principal, require_scope
from shared.problems import Forbidden, Unauthorized, problem_responses

DASHBOARD_SCOPE = "dashboard:read"
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


@router.get(
    "/api/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Event stream"}},
)
async def stream(
    request: Request,
    principal: StreamViewer,
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[int | None, Query(ge=0, description="Resume after this position")] = None,
) -> EventSourceResponse:
    """Live events visible to the caller; resumes after ``Last-Event-ID`` (or ``?since=``)."""
    hub: StreamHub = request.app.state.stream_hub
    settings = request.app.state.settings
    resume = _position(last_event_id) if last_event_id is not None else since
    # Everything dispatched from now on reaches the queue; what came before is either
    # replayed from the table or, without a resume point, not this client's business.
    subscriber = hub.subscribe(principal)
    start = hub.last_position
    return EventSourceResponse(
        _events(request, hub, subscriber, principal, resume=resume, start=start),
        ping=settings.stream_heartbeat_s,
        send_timeout=30,
        headers={"Cache-Control": "no-store"},
    )


def _position(header: str) -> int | None:
    return int(header) if header.strip().isdigit() else None


async def _events(
    request: Request,
    hub: StreamHub,
    subscriber: Subscriber,
    principal: Principal,
    *,
    resume: int | None,
    start: int,
) -> AsyncIterator[ServerSentEvent]:
    sent = start  # the highest position this client is known to be in sync with
    try:
        yield ServerSentEvent(event="hello", data=f'{{"position":{start}}}', retry=3000)
        if resume is not None:
            async for event, position in _replay(request, principal, resume):
                yield event
                sent = max(sent, position)
        while True:
            item = await subscriber.queue.get()
            if item is None:
                yield ServerSentEvent(event="dropped", data='{"reason":"client too slow"}')
                return
            if item.position > sent:
                sent = item.position
                yield ServerSentEvent(data=item.payload, id=str(item.position))
    finally:
        hub.unsubscribe(subscriber)


async def _replay(
    request: Request, principal: Principal, resume: int
) -> AsyncIterator[tuple[ServerSentEvent, int]]:
    """Rows after ``resume`` from the table; a ``reset`` event when they cannot all be
    replayed (pruned, too many, or an id from another database) so the page reloads."""
    settings = request.app.state.settings
    tenants = TenantFilter.of(principal)
    async with request.app.state.engine.connect() as conn:
        oldest, latest = await repository.bounds(conn)
        if resume > latest or resume < oldest - 1 or latest - resume > settings.stream_replay_limit:
            yield ServerSentEvent(event="reset", data=f'{{"as_of":{latest}}}'), latest
            return
        position = resume
        while True:
            rows = await repository.rows_after(conn, position=position, tenants=tenants, limit=500)
            for row in rows:
                item = StreamItem.of(row._mapping)
                yield ServerSentEvent(data=item.payload, id=str(item.position)), item.position
            if len(rows) < 500:
                return
            position = rows[-1].position
