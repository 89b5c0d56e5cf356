"""Events the diagnostics service publishes (the regional dashboard consumes them)."""

from pydantic import Field

from shared.events.registry import EventPayload, event_type


@event_type("proxima.diagnostics.aggregate.updated.v1")
class AggregateUpdated(EventPayload):
    """A live regional aggregate changed (per territory, currency and period)."""

    territory: str
    metric: str = Field(description="e.g. currency_volume, velocity, reconversion_leakage")
    period: str = Field(description="ISO month, e.g. 2026-11")
    currency: str | None = None
    value: float
    unit: str
