"""RFC 9457 problem+json for every error a service returns, validation errors included.

Every error meant for a client is a `shared.errors.DomainError` (HTTP-layer ones subclass
`Problem`, which is one too); one handler renders them, so an endpoint never builds
an error response by hand and every 4xx has a stable machine-readable ``code``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.access_first import refusal_before_validation
from shared.db_errors import DRIVER_ERRORS, is_database_unreachable
from shared.edges import allowed_methods, instance_of
from shared.errors import DomainError

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://proxima.example/problems/"

log = structlog.get_logger(__name__)


class Problem(DomainError):
    """An error of the HTTP layer itself (authentication, tenancy, a missing resource):
    the same shape as every `DomainError`, which one handler renders."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"


class NotFound(Problem):
    status, code, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(Problem):
    status, code, title = 422, "unprocessable", "Request breaks a business rule"


class Unauthorized(Problem):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, code, title = 403, "forbidden", "Not allowed"


class ServiceUnavailable(Problem):
    status, code, title = 503, "unavailable", "Service temporarily unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database is down or restarting: the client sends the request again later."""

    code, title = "database-unavailable", "Database temporarily unavailable"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "1"}


class UnsupportedMediaType(Problem):
    status, code, title = 415, "unsupported-media-type", "Unsupported content type"


class BodyTooDeep(Problem):
    status, code, title = 422, "body-too-deeply-nested", "Body nested too deeply"


JSON_BODY = "application/json"
FORM_BODY = "application/x-www-form-urlencoded"


_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "code"})


def problem_body(
    *, status: int, code: str, title: str, detail: str, instance: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        **extra,
    }


def problem_response(
    request: Request, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def _jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic error entries may carry exceptions in ``ctx``; keep only printable fields."""
    return [
        {
            "loc": list(err.get("loc", ())),
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in errors
    ]


def install_problem_handlers(app: FastAPI, domain_errors: tuple[type[Exception], ...] = ()) -> None:
    """Render `Problem` and each service's domain error base as problem+json.

    Domain modules stay free of FastAPI: their error base only needs the same four
    attributes as `Problem` (``status``, ``code``, ``title``, ``detail``, plus ``extra``).
    """

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        extra = getattr(exc, "extra", {}) or {}
        body = problem_body(
            status=int(getattr(exc, "status", 400)),
            code=str(getattr(exc, "code", "bad-request")),
            title=str(getattr(exc, "title", "Bad request")),
            detail=str(getattr(exc, "detail", exc)),
            instance=instance_of(request),
            **{k: v for k, v in extra.items() if k not in _RESERVED},
        )
        exc_status = body["status"]
        headers = dict(getattr(exc, "headers", None) or {})  # e.g. Retry-After
        if exc_status == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return problem_response(request, body, headers or None)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        if (expected := _expected_media_type(request)) is not None:
            return await on_problem(
                request,
                UnsupportedMediaType(
                    f"this endpoint reads {expected}, not "
                    f"{request.headers.get('content-type') or 'a body without Content-Type'}",
                    expected=expected,
                ),
            )
        if (refusal := await refusal_before_validation(request, exc.errors())) is not None:
            return await on_problem(request, refusal)
        body = problem_body(
            status=422,
            code="validation-failed",
            title="Request validation failed",
            detail="The request does not match the schema",
            instance=instance_of(request),
            errors=_jsonable_errors(exc.errors()),
        )
        return problem_response(request, body)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {
            400: "invalid-body",
            404: "not-found",
            405: "method-not-allowed",
            401: "unauthorized",
        }.get(exc.status_code, f"http-{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            # JSON nested deeper than the parser goes: well-formed, but not an acceptable
            # document (no schema here nests that deep).
            return await on_problem(
                request, BodyTooDeep("the JSON body is nested too deeply to be read")
            )
        if exc.status_code == 405:  # every method of the resource, not one route's
            allowed = allowed_methods(request.app, request.url.path)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
        body = problem_body(
            status=exc.status_code,
            code=code,
            title=str(exc.detail),
            detail=str(exc.detail),
            instance=instance_of(request),
        )
        return problem_response(request, body, headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_database_unreachable(exc):
            # Not a bug of this request: the database is down or restarting (a crash,
            # a failover). The request may be sent again, with its idempotency key.
            log.warning("database_unreachable", path=request.url.path, error=repr(exc))
            return await on_problem(
                request,
                DatabaseUnavailable("la base de données est momentanément injoignable ; réessayez"),
            )
        log.exception("unhandled_error", path=request.url.path)
        body = problem_body(
            status=500,
            code="internal-error",
            title="Internal error",
            detail="An unexpected error occurred; it has been logged",
            instance=instance_of(request),
        )
        return problem_response(request, body)

    app.add_exception_handler(DomainError, on_problem)
    for error_base in domain_errors:  # a base outside the hierarchy (none left in services)
        app.add_exception_handler(error_base, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for driver_error in DRIVER_ERRORS:  # answered in the app: the connection stays open
        app.add_exception_handler(driver_error, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)


def _expected_media_type(request: Request) -> str | None:
    """The media type the route reads, when the request sent a body of another type:
    FastAPI then fails validation on the raw bytes, which is really a 415."""
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    if body_field is None:
        return None
    sent = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if isinstance(body_field.field_info, params.Form):
        return None if sent in {FORM_BODY, "multipart/form-data"} else FORM_BODY
    if sent == JSON_BODY or (sent.startswith("application/") and sent.endswith("+json")):
        return None
    if not sent and not int(request.headers.get("content-length") or 0):
        return None  # no body at all: a missing body is a validation error
    return JSON_BODY


def problem_responses(*problems: type[Exception]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for an endpoint, so its OpenAPI lists the errors it can return
    (`Problem` subclasses or domain errors carrying ``status`` and ``title``)."""
    out: dict[int | str, dict[str, Any]] = {}
    for p in problems:
        status = int(getattr(p, "status", 400))
        titles = [t for t in (out.get(status, {}).get("description"), getattr(p, "title", "")) if t]
        out[status] = {
            "description": "; ".join(dict.fromkeys(titles)) or "Error",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out
