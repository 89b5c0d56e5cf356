"""The trace context crosses the outbox on both transports: an event recorded inside a
span carries its ``traceparent`` through the relay and the bus (embedded log or Kafka),
and the consumer applies it in a span that is a child of the recording span, in the same
trace; the relay's publish span too."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import tracing
from shared.settings import ServiceSettings
from tests.contract.test_backbone_delivery import Running, _emit, _probe_db
from tests.support.backbone import PROBE_TYPE, effects
from tests.support.waiting import eventually


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure_tracing(service_name="probe", endpoint="", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.disable()


async def test_the_consumer_span_continues_the_recording_trace(
    bus: ServiceSettings,
    new_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
    spans: InMemorySpanExporter,
) -> None:
    engine = await _probe_db(new_database, engine_for)
    tracing.instrument_engine(engine)
    probe = uuid.uuid4().hex
    async with Running() as run:
        await run.relay(bus, engine)
        await run.runner(bus, engine, group=f"g-{probe}")
        with tracing.tracer.start_as_current_span("request", kind=SpanKind.SERVER) as request:
            await _emit(engine, probe, range(3))
        await eventually(lambda: effects(engine, probe), lambda e: e == [0, 1, 2])
    tracing.shutdown()
    recorded = request.get_span_context()
    finished = [s for s in spans.get_finished_spans() if s.context.trace_id == recorded.trace_id]
    consumed = [s for s in finished if s.name == f"{PROBE_TYPE} process"]
    published = [s for s in finished if s.name == f"{PROBE_TYPE} publish"]
    assert len(consumed) == 3 and len(published) == 3, [s.name for s in finished]
    for span in (*consumed, *published):
        assert span.parent is not None and span.parent.span_id == recorded.span_id
    assert {s.kind for s in consumed} == {SpanKind.CONSUMER}
    # the consumer's database transaction is inside its span, the recording one inside
    # the request's
    transactions = [s for s in finished if s.name == "db transaction" and s.parent]
    parents = {s.parent.span_id for s in transactions if s.parent}
    assert recorded.span_id in parents
    assert parents & {s.context.span_id for s in consumed}
