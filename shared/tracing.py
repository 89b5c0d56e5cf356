"""Distributed tracing with OpenTelemetry, off unless an OTLP endpoint is configured.

Off (the default), nothing is installed: `tracer` is the API's proxy to a no-op tracer,
`enabled()` is False, and every helper here returns at once, so the hot paths (the
ledger's posting route) pay a boolean test and no allocation.

On (``PROXIMA_OTLP_ENDPOINT`` or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``), each process
exports its spans over OTLP/HTTP (protobuf) in batches, named by the ``service.name``
resource attribute: a span per HTTP request (FastAPI instrumentation; W3C ``traceparent``
read from the caller), per proxied hop of the gateway (aiohttp client instrumentation,
which injects ``traceparent`` into the forwarded request), per database statement and
transaction, and per event published and consumed.

Why the event helpers: the outbox breaks automatic propagation (the relay publishes later,
in its own context), so the span context current when an event is *recorded* is written
into its CloudEvents envelope (the distributed-tracing extension: ``traceparent`` and
``tracestate`` attributes), and the relay and each consumer start their spans from it,
record by record, on Kafka and on the embedded bus alike (both carry the envelope as is).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

tracer = trace.get_tracer("proxima")
"""The project's tracer: a proxy that becomes the SDK's once `configure_tracing` ran."""

_W3C = TraceContextTextMapPropagator()
# What the helpers give when tracing is off: shared, so the hot paths allocate nothing.
_NOTHING: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})
_state: dict[str, Any] = {"enabled": False}
# Paths whose requests make no span: probes and scrapes, every few seconds, say nothing.
UNTRACED_PATHS = "healthz,readyz,metrics"


def enabled() -> bool:
    """True once this process exports spans."""
    return bool(_state["enabled"])


def configure_tracing(
    *, service_name: str, endpoint: str, sample_ratio: float = 1.0, exporter: Any = None
) -> bool:
    """Install the SDK's tracer provider for this process, exporting in batches to
    ``<endpoint>/v1/traces`` over OTLP/HTTP, or to ``exporter`` (tests). Nothing happens
    without either. OpenTelemetry allows one provider per process: a later call adds its
    exporter to the first provider. Returns whether tracing is on."""
    if not endpoint and exporter is None:
        return enabled()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from shared.tracing_sampler import work_sampler

    provider = _state.get("provider")
    if provider is None:
        provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}),
            sampler=work_sampler(sample_ratio),
        )
        trace.set_tracer_provider(provider)
        _state["provider"] = provider
    if exporter is None:
        exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    _state["enabled"] = True
    return True


def disable() -> None:
    """Stop making spans in this process (tests that turned tracing on turn it off)."""
    shutdown()
    _state["enabled"] = False


def shutdown() -> None:
    """Flush the spans still buffered (a stopping process would otherwise lose them)."""
    provider = _state.get("provider")
    if enabled() and provider is not None:
        provider.force_flush(timeout_millis=5_000)


def instrument_app(app: FastAPI, engine: AsyncEngine) -> None:
    """Spans for the app's HTTP requests and its engine's statements and transactions."""
    if not enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=UNTRACED_PATHS, exclude_spans=["receive", "send"]
    )
    instrument_engine(engine)


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per transaction of ``engine``, from BEGIN to COMMIT or ROLLBACK (engine
    events: the instrumentation has none), and a span per statement (SQLAlchemy
    instrumentation, which is once per process: the service's own engine, the first)."""
    if not enabled():
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from sqlalchemy import event

    sync_engine = engine.sync_engine
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(engine=sync_engine, enable_commenter=False)

    @event.listens_for(sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.info["otel_transaction"] = tracer.start_span(
            "db transaction",
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": "postgresql"},
        )

    def _end(outcome: str) -> Any:
        def listener(conn: Any) -> None:
            span = conn.info.pop("otel_transaction", None)
            if span is not None:
                span.set_attribute("db.transaction.outcome", outcome)
                span.end()

        return listener

    event.listen(sync_engine, "commit", _end("commit"))
    event.listen(sync_engine, "rollback", _end("rollback"))


def aiohttp_trace_configs() -> list[Any]:
    """The gateway's proxy hop: a client span per forwarded request, and ``traceparent``
    injected into it (replacing any the caller sent: the service's parent is this hop)."""
    if not enabled():
        return []
    from opentelemetry.instrumentation.aiohttp_client import create_trace_config

    return [create_trace_config()]


# --- events -----------------------------------------------------------------------------


def envelope_attributes() -> Mapping[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span, for the envelope of an
    event recorded now; empty when tracing is off or no span is recording."""
    if not enabled():
        return _NO_ATTRIBUTES
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier


def current_span_context() -> SpanContext | None:
    """What a queued piece of work remembers of the request that queued it."""
    if not enabled():
        return None
    return trace.get_current_span().get_span_context()


def within(span_context: SpanContext | None) -> contextlib.AbstractContextManager[None]:
    """Make ``span_context`` current (events recorded inside carry it) without a new span."""
    if span_context is None or not span_context.is_valid:
        return _NOTHING
    return _within(span_context)


@contextlib.contextmanager
def _within(span_context: SpanContext) -> Iterator[None]:
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(span_context)))
    try:
        yield
    finally:
        otel_context.detach(token)


def _extracted(traceparent: str | None, tracestate: str | None) -> otel_context.Context:
    carrier = {"traceparent": traceparent or ""}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _W3C.extract(carrier, context=otel_context.Context())


def consumer_span(
    event_type: str, traceparent: str | None, tracestate: str | None, *, group: str
) -> contextlib.AbstractContextManager[Any]:
    """The span of one event applied by a consumer group: a child of the span that recorded
    the event (from its envelope), current while the handler runs, so what the handler
    records continues the same trace."""
    if not enabled():
        return _NOTHING
    return tracer.start_as_current_span(
        f"{event_type} process",
        context=_extracted(traceparent, tracestate),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": group,
            "cloudevents.event_type": event_type,
        },
    )


def publish_spans(records: Iterable[tuple[str, bytes]]) -> contextlib.AbstractContextManager[None]:
    """One PRODUCER span per traced event the relay sends (``(topic, envelope bytes)``),
    each a child of the span that recorded it, open while the batch is sent. The envelopes
    are read only when tracing is on."""
    if not enabled():
        return _NOTHING
    return _publish_spans(records)


@contextlib.contextmanager
def _publish_spans(records: Iterable[tuple[str, bytes]]) -> Iterator[None]:
    spans = []
    for topic, payload in records:
        envelope = _envelope(payload)
        if not envelope.get("traceparent"):
            continue  # recorded outside any trace (a background loop): not one to start
        spans.append(
            tracer.start_span(
                f"{envelope.get('type', 'event')} publish",
                context=_extracted(envelope.get("traceparent"), envelope.get("tracestate")),
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.operation.type": "send",
                    "messaging.destination.name": topic,
                    "cloudevents.event_id": str(envelope.get("id", "")),
                },
            )
        )
    try:
        yield
    finally:
        for span in spans:
            span.end()


def _envelope(payload: bytes) -> Mapping[str, Any]:
    try:
        envelope = json.loads(payload)
    except ValueError:
        return {}
    return envelope if isinstance(envelope, dict) else {}


def linked_span(
    name: str, span_contexts: Iterable[SpanContext | None]
) -> contextlib.AbstractContextManager[Any]:
    """A span of its own trace for work done once for many requests (group commit),
    linked to each request's span."""
    if not enabled():
        return _NOTHING
    links = [Link(sc) for sc in span_contexts if sc is not None and sc.is_valid]
    return tracer.start_as_current_span(name, context=otel_context.Context(), links=links)


def log_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, in hex, for log lines; None without one."""
    if not enabled():
        return None
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
