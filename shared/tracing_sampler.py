"""Which spans a process records: traces start at a unit of work, not at a poll.

A service's background loops (the outbox relay's polls, sealers, projections) run database
statements every fraction of a second outside any request; as root spans they would bury
the traces operators look for. So a CLIENT span (a statement, an outgoing call) with no
parent is dropped, and everything else follows the parent's decision, roots being kept at
the configured ratio (``PROXIMA_TRACE_SAMPLE_RATIO``)."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.util.types import Attributes


class _WorkSampler(Sampler):
    def __init__(self, ratio: float) -> None:
        self._inner = ParentBased(TraceIdRatioBased(ratio))

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: object = None,
    ) -> SamplingResult:
        parent = get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self._inner.should_sample(
            parent_context,
            trace_id,
            name,
            kind,
            attributes,
            links,
            trace_state,  # type: ignore[arg-type]
        )

    def get_description(self) -> str:
        return f"WorkSampler({self._inner.get_description()})"  # type: ignore[no-untyped-call]


def work_sampler(ratio: float) -> Sampler:
    """Roots of work at ``ratio``, children as their parent, orphan CLIENT spans never."""
    return _WorkSampler(ratio)
