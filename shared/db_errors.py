"""Which exceptions mean "the database is unreachable right now" rather than "this
request went wrong": a refused or dropped connection, a server starting up after a crash
(57P03) or shutting down (57P01-57P03). A request that meets one gets 503 with
``Retry-After`` (the client may send it again, with its idempotency key), not a 500: the
resilience suite SIGKILLs PostgreSQL under load and checks that no client sees a 500."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

DRIVER_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
"""The exception classes a database call can raise, handled inside the app (Starlette's
exception middleware) rather than by the catch-all: after the catch-all answers, Starlette
re-raises and uvicorn closes the client's connection, so a client retrying on a kept-alive
connection met "connection closed" instead of its 503."""

_UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "08000", "08001", "08003", "08006"})


def is_database_unreachable(exc: BaseException) -> bool:
    """True if ``exc`` or anything in its cause/context chain is a lost or refused
    database connection (SQLAlchemy wraps asyncpg's errors, our fast paths do not)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unreachable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError):
        # asyncpg lets the socket's own errors through when it connects; the same error
        # from anything else (an HTTP call) is not the database's
        return _raised_in_driver(exc)
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
        return True
    if isinstance(exc, asyncpg.InternalClientError) and "in progress" in str(exc):
        # A pooled connection whose last operation the crash cut short ("cannot switch to
        # state …; another operation is in progress"): unusable, like a lost one. Seen
        # once in the PostgreSQL SIGKILL test, as a 500 among 262 503s.
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(exc, asyncpg.PostgresError) and sqlstate in _UNREACHABLE_SQLSTATES


def _raised_in_driver(exc: BaseException) -> bool:
    """True if the call chain that raised ``exc`` went through asyncpg or SQLAlchemy."""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if "/asyncpg/" in filename or "/sqlalchemy/" in filename:
            return True
        tb = tb.tb_next
    return False
