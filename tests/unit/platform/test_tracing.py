"""Tracing helpers: off by default and free (shared no-op objects, no envelope attribute);
on, the trace context crosses the outbox in the CloudEvents envelope, consumer and
publish spans are children of the span that recorded the event, group commit links its
items' spans, orphan statements are not traced, and log lines carry the ids."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared import tracing
from shared.events.catalog.platform import ProbeEmitted
from shared.events.envelope import decode, encode, new_event
from shared.observability import _add_ids


def _event_bytes() -> bytes:
    return encode(
        new_event(ProbeEmitted(probe_id="p", sequence=1), source="/proxima/platform", subject="p")
    )


def test_off_by_default_records_nothing_and_allocates_no_helper() -> None:
    assert not tracing.enabled()
    assert "traceparent" not in json.loads(_event_bytes())
    assert tracing.envelope_attributes() is tracing.envelope_attributes()
    assert tracing.within(None) is tracing.within(None)
    assert tracing.consumer_span("t", None, None, group="g") is tracing.within(None)
    assert tracing.current_span_context() is None
    assert tracing.log_ids() is None
    assert not tracing.configure_tracing(service_name="x", endpoint="")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing(service_name="unit", endpoint="", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.disable()


def _finished(exporter: InMemorySpanExporter) -> dict[str, object]:
    tracing.shutdown()  # flushes the batch processor
    return {span.name: span for span in exporter.get_finished_spans()}


def test_the_trace_crosses_the_envelope_to_the_consumer_span(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.tracer.start_as_current_span("POST /x", kind=SpanKind.SERVER) as request:
        raw = _event_bytes()
        request_context = request.get_span_context()
    envelope = json.loads(raw)
    assert envelope["traceparent"].startswith(
        f"00-{request_context.trace_id:032x}-{request_context.span_id:016x}-"
    )
    event = decode(raw)
    assert event.traceparent == envelope["traceparent"]
    with tracing.publish_spans([("proxima.platform.probe", raw)]):
        pass
    with tracing.consumer_span(event.type, event.traceparent, event.tracestate, group="g"):
        # what the handler records continues the trace, as a child of the consumer span
        onward = json.loads(_event_bytes())["traceparent"]
    finished = _finished(spans)
    consumer = finished[f"{event.type} process"]
    publish = finished[f"{event.type} publish"]
    for span in (consumer, publish):
        assert span.context.trace_id == request_context.trace_id  # type: ignore[attr-defined]
        assert span.parent.span_id == request_context.span_id  # type: ignore[attr-defined]
    assert consumer.kind is SpanKind.CONSUMER  # type: ignore[attr-defined]
    assert publish.kind is SpanKind.PRODUCER  # type: ignore[attr-defined]
    assert onward.split("-")[2] == f"{consumer.context.span_id:016x}"  # type: ignore[attr-defined]


def test_group_commit_span_links_every_item_and_events_keep_their_request(
    spans: InMemorySpanExporter,
) -> None:
    requests = []
    for name in ("first", "second"):
        with tracing.tracer.start_as_current_span(name):
            requests.append(tracing.current_span_context())
    with tracing.tracer.start_as_current_span("worker started by the first request"):
        with tracing.linked_span("ledger group commit", requests):
            group = trace.get_current_span().get_span_context()
            with tracing.within(requests[1]):
                parent = json.loads(_event_bytes())["traceparent"]
    finished = _finished(spans)
    linked = finished["ledger group commit"]
    assert [link.context for link in linked.links] == requests  # type: ignore[attr-defined]
    assert linked.parent is None  # its own trace, not the first request's  # type: ignore[attr-defined]
    assert group.trace_id not in {r.trace_id for r in requests if r is not None}
    second = requests[1]
    assert second is not None
    assert parent.startswith(f"00-{second.trace_id:032x}-{second.span_id:016x}-")


def test_orphan_client_spans_are_dropped_but_children_kept(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.tracer.start_as_current_span("relay poll", kind=SpanKind.CLIENT):
        pass
    with tracing.tracer.start_as_current_span("GET /x", kind=SpanKind.SERVER):
        with tracing.tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT):
            pass
    assert set(_finished(spans)) == {"GET /x", "SELECT"}


def test_log_lines_carry_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    with tracing.tracer.start_as_current_span("work") as span:
        line = _add_ids(None, "info", {"event": "x"})
        context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in _add_ids(None, "info", {"event": "outside"})
    structlog.contextvars.clear_contextvars()


def test_an_event_recorded_outside_any_trace_has_no_publish_span(
    spans: InMemorySpanExporter,
) -> None:
    untraced = _event_bytes()  # no current span: a background loop's event
    assert "traceparent" not in json.loads(untraced)
    with tracing.publish_spans([("proxima.platform.probe", untraced), ("t", b"not json")]):
        pass
    assert _finished(spans) == {}
