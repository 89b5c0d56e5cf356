"""``GET /api/stream``: the live events a caller may see, as Server-Sent Events.

The dashboard page loads the summary (``dashboard/router.py``), which says up to which
stream position it is computed, then opens the stream from that position: nothing is
missed and nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.gateway.http.components import Engine, Hub, Settings, Verifier
from services.gateway.http.scopes import StreamViewer
from services.gateway.stream import service
from services.gateway.stream.errors import TooManyStreams
from services.gateway.stream.hub import STREAM_CLOSED, StreamHub, StreamItem, Subscriber
from shared.problems import Forbidden, Unauthorized, problem_responses

router = APIRouter(tags=["live dashboard"], responses=problem_responses(Unauthorized, Forbidden))


@router.get(
    "/api/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Event stream"},
        **problem_responses(TooManyStreams),
    },
)
async def stream(
    request: Request,
    principal: StreamViewer,
    hub: Hub,
    engine: Engine,
    settings: Settings,
    verifier: Verifier,
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[int | None, Query(ge=0, description="Resume after this position")] = None,
) -> EventSourceResponse:
    """Live events visible to the caller; resumes after ``Last-Event-ID`` (or ``?since=``).

    The stream ends with a ``closed`` event (``{"reason": "token-expired"}`` or
    ``"token-revoked"``) when its token expires, or its client is revoked, changed or its
    signing key withdrawn: reconnect with a new token. A client has at most
    ``stream_max_connections_per_client`` streams open on a gateway replica (then 429)."""
    resume = _position(last_event_id) if last_event_id is not None else since
    subscriber, start = service.open_stream(hub, principal)
    guard = service.TokenGuard(
        verifier,
        getattr(request.state, "access_token", None),
        principal,
        recheck_s=settings.stream_auth_recheck_s,
    )
    replayed = (
        None
        if resume is None
        else _replayed(
            service.replay(engine, principal, resume=resume, limit=settings.stream_replay_limit)
        )
    )
    events = _events(hub, subscriber, guard, replayed=replayed, start=start)
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


def _closed(reason: str) -> ServerSentEvent:
    STREAM_CLOSED.labels(reason).inc()
    return ServerSentEvent(event="closed", data=json.dumps({"reason": reason}))


async def _events(
    hub: StreamHub,
    subscriber: Subscriber,
    guard: service.TokenGuard,
    *,
    replayed: AsyncIterator[tuple[ServerSentEvent, int]] | None,
    start: int,
) -> AsyncIterator[ServerSentEvent]:
    sent = start  # the highest position this client is known to be in sync with
    try:
        yield ServerSentEvent(event="hello", data=f'{{"position":{start}}}', retry=3000)
        if replayed is not None:
            async for event, position in replayed:
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


async def _replayed(
    entries: AsyncIterator[StreamItem | service.Reset],
) -> AsyncIterator[tuple[ServerSentEvent, int]]:
    """The replayed rows as events, each with its position; a ``reset`` event when they
    cannot all be replayed, so the page reloads."""
    async for entry in entries:
        if isinstance(entry, service.Reset):
            yield ServerSentEvent(event="reset", data=f'{{"as_of":{entry.as_of}}}'), entry.as_of
        else:
            yield ServerSentEvent(data=entry.payload, id=str(entry.position)), entry.position
