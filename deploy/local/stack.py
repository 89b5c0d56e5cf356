"""The whole Proxima stack as local processes: PostgreSQL, optionally Kafka, the four
services. Used by ``make run`` (foreground, Ctrl-C stops everything) and by e2e tests and
benches (as a context manager), so dev and tests start the system the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from deploy.local.postgres import REPO, LocalPostgres
from shared.migrate import SERVICES, upgrade

BACKEND_SERVICES = ("ledger", "funding", "diagnostics")


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"services.{self.name}.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                # The gateway decides whose X-Forwarded-For to believe (trusted_proxies);
                # uvicorn's own handling would believe anyone connecting from 127.0.0.1.
                "--no-proxy-headers",
                "--timeout-graceful-shutdown",
                "5",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: what a crash looks like to the rest of the system."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self, timeout: float = 10) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                response = httpx.get(f"{self.url}/readyz", timeout=2)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s: {last}; see {self.log_path}")


APPEND_ONLY: dict[str, tuple[str, ...]] = {
    "ledger": ("transactions", "postings", "posting_authorities", "audit_chain", "period_closings"),
}
"""Tables a service may only read and insert into: the ledger is append-only."""


@dataclass
class Stack:
    postgres: LocalPostgres
    run_dir: Path
    event_bus: str = "embedded"
    kafka_bootstrap: str = ""
    base_port: int = 8000
    db_prefix: str = "proxima"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # The PROXIMA_KAFKA_* variables that authenticate a service as its own principal
    # (``KafkaBroker.client_env``); each service gets its own credentials.
    kafka_client_env: Callable[[str], Mapping[str, str]] | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def role(self, service: str, kind: str) -> str:
        """The PostgreSQL role ``kind`` (``owner``: migrations; ``app``: the running
        service) of ``service``; cluster-wide, so it carries the stack's prefix."""
        return f"{self.db_prefix}_{service}_{kind}"

    def database_url(self, service: str) -> str:
        """What ``service`` connects with: its own non-superuser role, which reads and
        writes its tables but owns nothing (the events log is its owner's: the embedded
        bus creates its tables)."""
        kind = "owner" if service == "events" else "app"
        return self.postgres.database_url(
            f"{self.db_prefix}_{service}", user=self.role(service, kind)
        )

    def migration_url(self, service: str) -> str:
        """What migrations run with: the role owning the service's database."""
        return self.postgres.database_url(
            f"{self.db_prefix}_{service}", user=self.role(service, "owner")
        )

    def port_of(self, service: str) -> int:
        return self.base_port + (0 if service == "gateway" else 1 + BACKEND_SERVICES.index(service))

    def prepare_databases(self, *, recreate: bool = False) -> None:
        """One database per service, owned by the service's owner role (migrations), and
        used by its app role (the service): neither is a superuser, so neither can switch
        off the triggers that guard the data, and the app role cannot alter the schema."""
        for name in (*SERVICES, "events"):
            owner = self.role(name, "owner")
            self.postgres.ensure_role(owner)
            self.postgres.create_database(
                f"{self.db_prefix}_{name}", recreate=recreate, owner=owner
            )
        for service in SERVICES:
            upgrade(service, self.migration_url(service))
            # The audit sealer reads other sessions' transaction starts (pg_stat_activity).
            self.postgres.ensure_role(self.role(service, "app"), grants=("pg_read_all_stats",))
            self.postgres.grant_app_role(
                f"{self.db_prefix}_{service}",
                owner=self.role(service, "owner"),
                app=self.role(service, "app"),
                append_only=APPEND_ONLY.get(service, ()),
            )

    def env_for(self, service: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROXIMA_")}
        gateway = f"http://127.0.0.1:{self.port_of('gateway')}"
        env.update(
            PYTHONPATH=str(REPO),
            PROXIMA_SERVICE_NAME=service,
            PROXIMA_DATABASE_URL=self.database_url(service),
            PROXIMA_EVENTS_DATABASE_URL=self.database_url("events"),
            PROXIMA_EVENT_BUS=self.event_bus,
            PROXIMA_KAFKA_BOOTSTRAP=self.kafka_bootstrap,
            PROXIMA_JWKS_URL=f"{gateway}/.well-known/jwks.json",
            PROXIMA_LEDGER_URL=f"http://127.0.0.1:{self.port_of('ledger')}",
            PROXIMA_FUNDING_URL=f"http://127.0.0.1:{self.port_of('funding')}",
            PROXIMA_DIAGNOSTICS_URL=f"http://127.0.0.1:{self.port_of('diagnostics')}",
            PROXIMA_SIGNING_KEYS_DIR=str(self.run_dir / "keys"),
        )
        if self.event_bus == "kafka" and self.kafka_client_env is not None:
            env.update(self.kafka_client_env(service))
        env.update(self.extra_env)
        return env

    def start_service(self, service: str) -> ServiceProcess:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        proc = ServiceProcess(
            name=service,
            port=self.port_of(service),
            env=self.env_for(service),
            log_path=self.run_dir / f"{service}.log",
        )
        proc.start()
        self.services[service] = proc
        return proc

    def start_all(self) -> None:
        # The gateway first: services fetch its signing keys to verify tokens.
        self.start_service("gateway").wait_ready()
        for service in BACKEND_SERVICES:
            self.start_service(service)
        for service in BACKEND_SERVICES:
            self.services[service].wait_ready()

    def restart(self, service: str) -> ServiceProcess:
        self.services[service].stop()
        proc = self.start_service(service)
        proc.wait_ready()
        return proc

    def stop_all(self) -> None:
        for proc in reversed(list(self.services.values())):
            proc.stop()

    @property
    def gateway_url(self) -> str:
        return self.services["gateway"].url


@contextmanager
def running_stack(stack: Stack) -> Iterator[Stack]:
    stack.prepare_databases(recreate=True)
    try:
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()
