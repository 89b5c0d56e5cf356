"""A migration job started before its database (compose has no health checks under podman,
a Job may run beside a restarting server) waits for it, within a bound, instead of
failing at once; a database that never comes still fails the job."""

from __future__ import annotations

import threading
import time

import pytest

from deploy.local.postgres import LocalPostgres
from shared.migrate import wait_for_database
from tests.support.ports import free_port


def test_a_reachable_database_is_not_waited_for(postgres: LocalPostgres) -> None:
    started = time.monotonic()
    wait_for_database(postgres.database_url("postgres"), timeout_s=30)
    assert time.monotonic() - started < 5


def test_a_database_that_never_answers_fails_after_the_wait() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    started = time.monotonic()
    with pytest.raises(OSError):
        wait_for_database(url, timeout_s=1.5)
    assert 1.5 <= time.monotonic() - started < 10


def test_the_wait_ends_when_the_database_comes_up(postgres: LocalPostgres) -> None:
    """A TCP forwarder to the server that only starts listening after two seconds."""
    import socket

    port = free_port()
    listening = threading.Event()

    def forward_later() -> None:
        time.sleep(2)
        with socket.create_server(("127.0.0.1", port)) as server:
            listening.set()
            client, _ = server.accept()
            upstream = socket.create_connection(("127.0.0.1", postgres.port))
            pipes = [
                threading.Thread(target=_pipe, args=(client, upstream), daemon=True),
                threading.Thread(target=_pipe, args=(upstream, client), daemon=True),
            ]
            for pipe in pipes:
                pipe.start()
            for pipe in pipes:
                pipe.join(timeout=10)

    threading.Thread(target=forward_later, daemon=True).start()
    started = time.monotonic()
    wait_for_database(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres", timeout_s=30)
    assert listening.is_set()
    assert 2 <= time.monotonic() - started < 20


def _pipe(source: object, target: object) -> None:
    import socket

    assert isinstance(source, socket.socket) and isinstance(target, socket.socket)
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
