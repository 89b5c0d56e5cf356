"""Access before validation: a request naming a resource outside the caller's tenancy is
refused as a well-formed one would be (403/404), never with a 422 about its query or body.

FastAPI validates an endpoint's query and body before the endpoint runs, and the tenancy
checks live in the endpoints' use cases, so without this a malformed request about another
tenant's account, application or territory got a 422 while a well-formed one got a 403.
Each service names, per path parameter, the check its own reads use (`AccessGate`); the
validation error handler runs it before answering 422. It costs nothing on valid requests:
it runs only on the way to a 422.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import DomainError

if TYPE_CHECKING:  # shared.auth imports shared.problems, which imports this module
    from shared.auth import Principal

log = structlog.get_logger(__name__)

AccessGate = Callable[[Request, "Principal", AsyncSession], Awaitable[None]]
"""Raise the caller's refusal (403/404) for a resource the path names, or return."""


def path_uuid(request: Request, name: str) -> uuid.UUID | None:
    """The path parameter ``name`` as a UUID; None when absent or malformed (a malformed
    id names no resource: its 422 reveals nothing)."""
    raw = request.path_params.get(name)
    try:
        return uuid.UUID(str(raw)) if raw is not None else None
    except ValueError:
        return None


async def refusal_before_validation(
    request: Request, errors: Sequence[Mapping[str, Any]]
) -> DomainError | None:
    """The refusal the service's access gate gives this request, if any.

    Only for an authenticated caller (the scope dependency ran and left its principal:
    without one, the 401 or 403 of the scope check already came first), and only when the
    path itself is well-formed (a malformed path parameter names no resource)."""
    gate: AccessGate | None = getattr(request.app.state, "access_gate", None)
    principal: Principal | None = getattr(request.state, "principal", None)
    if gate is None or principal is None or not request.path_params:
        return None
    if any(tuple(error.get("loc", ()))[:1] == ("path",) for error in errors):
        return None
    try:
        async with request.app.state.session_factory() as session, session.begin():
            await gate(request, principal, session)
    except DomainError as refusal:
        return refusal
    except Exception:  # noqa: BLE001 - raised inside an error handler it would be a 500
        # The database cannot answer (down, restarting): the request still gets its 422,
        # the answer it deserves on its own; nothing about the resource is read.
        log.warning("access_gate_unavailable", path=request.url.path, exc_info=True)
    return None
