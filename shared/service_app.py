"""The common skeleton of every service app: problem+json errors, request ids, JSON logs,
``/healthz``, ``/readyz``, ``/metrics``, the database engine and the event runtime.

A service's ``create_app`` calls `build_service_app` with its routers and subscriptions;
everything a newcomer expects of "a Proxima service" is then the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.access_first import AccessGate
from shared.api_docs import install_offline_docs
from shared.auth import TokenVerifier
from shared.auth_events import token_event_follower
from shared.db import make_engine, make_session_factory
from shared.edges import EdgeMiddleware
from shared.events.consumer import Subscription
from shared.events.runtime import EventRuntime
from shared.gc_pauses import freeze_startup_heap, thaw_heap
from shared.metrics_access import metrics_endpoint
from shared.observability import RequestContextMiddleware, configure_logging
from shared.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from shared.settings import ServiceSettings
from shared.tracing import configure_tracing, instrument_app
from shared.tracing import shutdown as flush_spans

log = structlog.get_logger(__name__)

Hook = Callable[[FastAPI], Awaitable[None]]


class ProblemDocument(BaseModel):
    """RFC 9457 problem details, with our stable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str


def build_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    subscriptions: Sequence[Subscription] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    domain_errors: tuple[type[Exception], ...] = (),
    follow_token_events: bool = True,
    access_gate: AccessGate | None = None,
) -> FastAPI:
    """``follow_token_events``: when tokens are verified against the gateway's JWKS, follow
    its client and signing-key events in this process (see `shared.auth_events`); the
    gateway itself, which holds the registry and the keys, passes False. ``access_gate``:
    the service's tenancy checks per path parameter, run before a 422 (`shared.access_first`)."""
    configure_logging(
        service=settings.service_name, level=settings.log_level, json=settings.log_json
    )
    configure_tracing(
        service_name=settings.service_name,
        endpoint=settings.otlp_endpoint,
        sample_ratio=settings.trace_sample_ratio,
    )
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = EventRuntime(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            subscriptions=subscriptions if settings.run_background_tasks else (),
        )
        app.state.events = runtime
        await runtime.start()
        follower: asyncio.Task[None] | None = None
        verifier = app.state.token_verifier
        if follow_token_events and isinstance(verifier, TokenVerifier):
            if verifier.follows_gateway:
                app.state.token_events = token_event_follower(settings, verifier)
                follower = asyncio.create_task(app.state.token_events.run(), name="token-events")
        for hook in on_startup:
            await hook(app)
        freeze_startup_heap()
        log.info("service_started", service=settings.service_name)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            if follower is not None:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait({follower}, timeout=10)
            await runtime.stop()
            await engine.dispose()
            flush_spans()
            thaw_heap()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_offline_docs(app, title=title)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.access_gate = access_gate
    app.state.token_verifier = TokenVerifier(
        jwks_url=settings.jwks_url, jwks_json=settings.jwks_json, jwks_ttl_s=settings.jwks_ttl_s
    )
    install_problem_handlers(app, domain_errors)
    app.add_middleware(EdgeMiddleware)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    for router in routers:
        app.include_router(router)
    instrument_app(app, engine)  # when tracing is on: outermost, around the middlewares

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: database and event bus reachable",
        responses={503: {"description": "A dependency is unreachable"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            await request.app.state.events.ping()
            checks["event_bus"] = "ok"
        except Exception as exc:
            checks["event_bus"] = f"unreachable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not-ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    _document_problems(app)
    return app


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


# Answers any operation with a request body may give before its endpoint runs.
BODY_ERRORS = {
    "400": "The body could not be read at all (bytes that are not text, a broken form)",
    "415": "The body is not of the media type the operation reads (its `expected` field)",
    "422": "Validation failed",
}


def _document_problems(app: FastAPI) -> None:
    """Add the Problem schema to the OpenAPI document so ``responses=`` can refer to it,
    and declare, once for every operation, the problems the framework itself may answer:
    validation (422), an unreadable body (400), a body of the wrong type (415) and, under a
    path with parameters, a path that names nothing (404)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = ProblemDocument.model_json_schema()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = _problem("Validation failed")
                if "requestBody" in operation:
                    for status, description in BODY_ERRORS.items():
                        responses.setdefault(status, _problem(description))
                if any(p.get("in") == "path" for p in operation.get("parameters", ())):
                    # a path naming no resource (or one outside its converter, such as
                    # a card id that is no UUID) matches no route
                    responses.setdefault("404", _problem("Not found"))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: one transaction, committed if the endpoint succeeded."""
    async with request.app.state.session_factory() as session, session.begin():
        yield session


DbSession = Annotated[AsyncSession, Depends(session_dependency, scope="function")]
"""Use as an endpoint parameter type. ``scope="function"`` commits before the response is
sent, so a client never sees success for a transaction that then fails to commit."""
