"""A request that meets a dead or restarting database gets 503 with ``Retry-After``, not a
500: which exceptions count as "unreachable", and what the problem handler answers."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.db_errors import is_database_unreachable
from shared.problems import install_problem_handlers
from tests.support.ports import free_port


def _wrapped(inner: BaseException, outer: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as caught:
        return caught


async def test_lost_refused_and_starting_up_connections_are_unreachable() -> None:
    # asyncpg's connect lets the socket's own error through
    try:
        await asyncpg.connect(host="127.0.0.1", port=free_port(), user="u", timeout=5)
    except OSError as refused:
        assert is_database_unreachable(refused)
    else:  # pragma: no cover - nothing listens on a port just found free
        raise AssertionError("connected to nothing")
    assert is_database_unreachable(OperationalError("SELECT 1", {}, Exception("gone")))
    assert is_database_unreachable(asyncpg.ConnectionDoesNotExistError("closed"))
    assert is_database_unreachable(asyncpg.CannotConnectNowError("starting up"))  # 57P03
    assert is_database_unreachable(asyncpg.AdminShutdownError("terminating"))  # 57P01
    # SQLAlchemy's generic DBAPIError around asyncpg's error, as after a crash
    starting = _wrapped(
        asyncpg.CannotConnectNowError("not yet accepting connections"),
        DBAPIError("connect", {}, Exception("not yet accepting connections")),
    )
    assert is_database_unreachable(starting)
    # a pooled connection the crash left mid-operation, wrapped as SQLAlchemy does
    cut_short = _wrapped(
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        DBAPIError("BEGIN", {}, Exception("cannot switch to state 15")),
    )
    assert is_database_unreachable(cut_short)


def test_a_failing_statement_or_a_bug_is_not_unreachable() -> None:
    assert not is_database_unreachable(asyncpg.UniqueViolationError("duplicate"))
    assert not is_database_unreachable(DBAPIError("INSERT", {}, Exception("constraint")))
    assert not is_database_unreachable(KeyError("bug"))
    assert not is_database_unreachable(asyncpg.InternalClientError("unexpected message"))
    # the same kinds of error from anything but the database driver are not the database's
    assert not is_database_unreachable(_wrapped(ValueError("x"), TimeoutError("http call")))
    assert not is_database_unreachable(ConnectionRefusedError(111, "an HTTP upstream"))
    assert not is_database_unreachable(_wrapped(ValueError("x"), RuntimeError("y")))


async def test_unreachable_database_answers_503_with_retry_after_and_a_bug_500() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/down")
    async def down() -> None:
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    @app.get("/bug")
    async def bug() -> None:
        raise KeyError("bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/down")
        assert r.status_code == 503
        assert r.headers["retry-after"] == "1"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "database-unavailable"
        r = await client.get("/bug")
        assert r.status_code == 500
        assert r.json()["code"] == "internal-error"
