"""Typed event payloads, registered by their CloudEvents ``type`` name.

A name reads ``proxima.<service>.<aggregate>.<verb>.v<N>``; the Kafka topic is the family
``proxima.<service>.<aggregate>``, so every event of one aggregate shares a topic and,
keyed by aggregate id, stays ordered.

Ownership follows the names: ``<service>`` alone produces the family, publishes under the
CloudEvents ``source`` ``/proxima/<service>``, and owns every topic under
``proxima.<service>.``, its dead-letter topics included. Kafka ACLs
(``deploy/kafka_acls.py``) and consumers (``shared/events/trust.py``) both enforce it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

TYPE_PATTERN = re.compile(
    r"^proxima\.(?P<service>[a-z]+)\.(?P<aggregate>[a-z_]+)\.(?P<verb>[a-z_]+)\.v(?P<version>\d+)$"
)
TOPIC_OWNER_PATTERN = re.compile(r"^proxima\.(?P<service>[a-z]+)\.")
SOURCE_PATTERN = re.compile(r"^/proxima/(?P<service>[a-z]+)$")


class EventPayload(BaseModel):
    """Base of every payload. Subclasses are immutable and reject unknown fields, so a
    producer's typo fails at the producer, not in a consumer three services away."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    description: ClassVar[str] = ""


_REGISTRY: dict[str, type[EventPayload]] = {}

P = TypeVar("P", bound=type[EventPayload])


def event_type(name: str, *, description: str = "") -> Any:
    """Class decorator registering a payload model under its event type name."""
    if not TYPE_PATTERN.match(name):
        raise ValueError(
            f"event type {name!r} does not read proxima.<service>.<aggregate>.<verb>.vN"
        )

    def register(cls: P) -> P:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"event type {name!r} registered twice")
        cls.event_type = name
        cls.description = description or (cls.__doc__ or "").strip()
        _REGISTRY[name] = cls
        return cls

    return register


def payload_model(name: str) -> type[EventPayload] | None:
    return _REGISTRY.get(name)


def registered_types() -> dict[str, type[EventPayload]]:
    """All known event types (importing the catalog registers them)."""
    from shared.events import catalog  # noqa: F401 - import registers the models

    return dict(sorted(_REGISTRY.items()))


def topic_for(name: str) -> str:
    match = TYPE_PATTERN.match(name)
    if match is None:
        raise ValueError(f"not an event type name: {name!r}")
    return f"proxima.{match['service']}.{match['aggregate']}"


def producer_of(name: str) -> str:
    """The service that produces event type ``name``."""
    match = TYPE_PATTERN.match(name)
    if match is None:
        raise ValueError(f"not an event type name: {name!r}")
    return match["service"]


def topic_owner(topic: str) -> str | None:
    """The service owning ``topic`` (the only one that may write to it), or None."""
    match = TOPIC_OWNER_PATTERN.match(topic)
    return match["service"] if match else None


def source_for(service: str) -> str:
    """The CloudEvents ``source`` of ``service``'s events."""
    return f"/proxima/{service}"


def service_of_source(source: str) -> str | None:
    match = SOURCE_PATTERN.match(source)
    return match["service"] if match else None


def dead_letter_topic(consumer: str, topic: str) -> str:
    """Where ``consumer`` (a service) dead-letters what it gave up on from ``topic``: under
    its own prefix, since it writes them (``proxima.ledger.dlq.funding.payment``)."""
    return f"proxima.{consumer}.dlq.{topic.removeprefix('proxima.')}"


def dead_letter_prefix(consumer: str) -> str:
    return f"proxima.{consumer}.dlq."
