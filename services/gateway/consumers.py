"""Events the gateway consumes: its stream group (see ``stream/consumer.py``)."""

from __future__ import annotations

from services.gateway.stream.consumer import stream_subscription
from shared.events.consumer import Subscription


def subscriptions() -> list[Subscription]:
    """What this service consumes (Kafka ACLs, dead-letter replay)."""
    return [stream_subscription()]
