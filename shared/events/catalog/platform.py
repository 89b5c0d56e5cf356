"""Events of the platform itself."""

from pydantic import Field

from shared.events.registry import EventPayload, event_type


@event_type("proxima.platform.probe.emitted.v1")
class ProbeEmitted(EventPayload):
    """A probe sent through the backbone to prove end-to-end delivery (contract and fault
    tests, and the ``/readyz`` deep check of a deployment)."""

    probe_id: str = Field(min_length=1, max_length=100)
    sequence: int = Field(ge=0)
    note: str = Field(default="", max_length=500)
