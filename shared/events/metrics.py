"""Prometheus metrics of the event backbone."""

from prometheus_client import Counter, Gauge

EVENTS_RECORDED = Counter("proxima_events_recorded_total", "Events written to the outbox", ["type"])
EVENTS_PUBLISHED = Counter("proxima_events_published_total", "Outbox events published", ["topic"])
EVENTS_CONSUMED = Counter(
    "proxima_events_consumed_total", "Events handled by a consumer", ["consumer", "type", "outcome"]
)
EVENTS_DEAD_LETTERED = Counter(
    "proxima_events_dead_lettered_total",
    "Events sent to a dead-letter topic",
    ["consumer", "reason"],
)
HANDLER_RETRIES = Counter("proxima_event_handler_retries_total", "Handler retries", ["consumer"])
OUTBOX_BACKLOG = Gauge("proxima_outbox_backlog", "Unpublished outbox rows seen by the relay")
RELAY_IS_LEADER = Gauge("proxima_outbox_relay_leader", "1 when this instance's relay publishes")
