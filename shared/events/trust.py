"""Events are not trusted because they arrived: an event counts only if its producer owns
the topic it came on.

The rule is the registry's naming: the service ``<s>`` publishes under the source
``/proxima/<s>``, only types ``proxima.<s>.<aggregate>.…``, only to the family topic
``proxima.<s>.<aggregate>``. On Kafka the broker already authenticated the writer and its
ACLs let only ``<s>`` write there; the consumer still checks the envelope, so an event
copied from elsewhere or relabelled by a service that was allowed to write counts for what
its source may cause, nothing more. The embedded log has no broker: it records the
service that appended each row, and the same rule applies to that name.

The consumer runner dead-letters an untrusted event with the reason and never runs a
handler on it, and dead-letter replay refuses it too.
"""

from __future__ import annotations

from shared.events.envelope import Event
from shared.events.registry import service_of_source, topic_for, topic_owner
from shared.events.transports.base import Record

UNTRUSTED = "untrusted"
"""Every reason given here starts with it (metrics label, and replay refuses those)."""


def untrusted_reason(event: Event, record: Record) -> str | None:
    """Why ``event``, delivered as ``record``, must not be applied; None if it may be."""
    owner = topic_owner(record.topic)
    if owner is None:
        return f"{UNTRUSTED} topic: {record.topic} belongs to no service"
    if record.producer is not None and record.producer != owner:
        return (
            f"{UNTRUSTED} producer: {record.producer or 'an unnamed producer'} wrote to "
            f"{record.topic}, which belongs to {owner}"
        )
    source_service = service_of_source(event.source)
    if source_service != owner:
        return (
            f"{UNTRUSTED} source: {event.source} does not own {record.topic} "
            f"(only /proxima/{owner} publishes there)"
        )
    if topic_for(event.type) != record.topic:
        return f"{UNTRUSTED} type: {event.type} does not belong on {record.topic}"
    return None
