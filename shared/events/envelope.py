"""The CloudEvents 1.0 envelope, in structured JSON mode on every transport.

Structured mode (the whole envelope as the message value, ``content-type:
application/cloudevents+json``) keeps one byte format for Kafka, the embedded log, the
outbox and the dead-letter table, so an event can be copied between them unchanged.
The cloudevents SDK validates the required attributes; our registry validates ``data``.

Tracing (`shared.tracing`) uses the CloudEvents distributed-tracing extension: the
``traceparent`` and ``tracestate`` attributes hold the W3C trace context of the span that
recorded the event, so a consumer's span continues that trace whatever carried the event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from shared.events.registry import EventPayload, payload_model
from shared.tracing import envelope_attributes

CONTENT_TYPE = JSONFormat.CONTENT_TYPE
_FORMAT = JSONFormat()


class EnvelopeError(Exception):
    """Raised for bytes that are not a valid Proxima event; ``reason`` is what a dead-letter
    row records."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownEventType(EnvelopeError):
    pass


class PayloadInvalid(EnvelopeError):
    pass


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded event: the envelope attributes plus the typed payload."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    correlation_id: str | None
    data: EventPayload
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def dedup_key(self) -> str:
        """CloudEvents says ``source`` + ``id`` identify an event."""
        return f"{self.source}#{self.id}"


def new_event(
    payload: EventPayload, *, source: str, subject: str, correlation_id: str | None = None
) -> Event:
    """A new event, carrying the current span's trace context when tracing is on."""
    trace = envelope_attributes()
    return Event(
        id=str(uuid.uuid4()),
        source=source,
        type=payload.event_type,
        subject=subject,
        time=datetime.now(UTC),
        correlation_id=correlation_id,
        data=payload,
        traceparent=trace.get("traceparent"),
        tracestate=trace.get("tracestate"),
    )


def encode(event: Event) -> bytes:
    attributes: dict[str, Any] = {
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "specversion": "1.0",
        "subject": event.subject,
        "time": event.time,
        "datacontenttype": "application/json",
    }
    if event.correlation_id:
        attributes["correlationid"] = event.correlation_id
    if event.traceparent:
        attributes["traceparent"] = event.traceparent
        if event.tracestate:
            attributes["tracestate"] = event.tracestate
    return _FORMAT.write(CloudEvent(attributes, event.data.model_dump(mode="json")))


def decode(raw: bytes) -> Event:
    """Parse and validate; raise `EnvelopeError` (never anything else) on bad input."""
    try:
        ce = _FORMAT.read(None, raw)
    except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise EnvelopeError(f"malformed envelope: {exc}") from exc
    if ce.get_specversion() != "1.0":
        raise EnvelopeError(f"unsupported specversion {ce.get_specversion()!r}")
    model = payload_model(ce.get_type())
    if model is None:
        raise UnknownEventType(f"unknown event type {ce.get_type()!r}")
    data = ce.get_data()
    if not isinstance(data, dict):
        raise PayloadInvalid("data must be a JSON object")
    try:
        payload = model.model_validate(data)
    except ValidationError as exc:
        raise PayloadInvalid(
            f"payload fails {model.__name__}: {exc.errors(include_url=False)}"
        ) from exc
    time = ce.get_time() or datetime.now(UTC)
    correlation = ce.get_extension("correlationid")
    traceparent = ce.get_extension("traceparent")
    tracestate = ce.get_extension("tracestate")
    return Event(
        id=ce.get_id(),
        source=ce.get_source(),
        type=ce.get_type(),
        subject=ce.get_subject() or "",
        time=time,
        correlation_id=str(correlation) if correlation else None,
        data=payload,
        traceparent=str(traceparent) if traceparent else None,
        tracestate=str(tracestate) if tracestate else None,
    )
