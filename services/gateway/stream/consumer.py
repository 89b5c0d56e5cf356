"""The gateway's own consumer group: every streamed event becomes stream rows and dashboard
state in one transaction with the inbox entry, so it is applied exactly once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.stream import service
from services.gateway.stream.rules import streamed_types
from shared.events.consumer import Subscription
from shared.events.envelope import Event

GROUP = "gateway-stream"


async def handle(session: AsyncSession, event: Event) -> None:
    await service.record(session, event)


def stream_subscription() -> Subscription:
    return Subscription(group=GROUP, handlers=dict.fromkeys(streamed_types(), handle))
