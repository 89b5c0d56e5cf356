"""docker-compose.yml started for real with podman-compose (1.6.0 from PyPI): PostgreSQL,
Kafka, the gateway's key job, the four migration jobs and the four services, in
production mode with the secrets of an env file made from .env.example the way its
header says (every change-me replaced). Where no registry is reachable the official
postgres and apache/kafka images are swapped for the local stand-ins of
docker-compose.standins.yml.

Podman here runs no health checks (no systemd), and podman-compose ignores
``condition: service_healthy`` on podman < 4.6: the smoke polls the gateway's /readyz,
published on the host, then a token, a transfer and a grant payment go through it, and
every service stops with exit code 0. ``up --no-deps`` works around podman 4.3's
``--requires`` on a chain of dependencies ("not found in input list"); the services
restart (``restart: unless-stopped``) until their migrations are done.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.docker.images import DEBIAN_BASE, build_all, build_standins, content_tag
from deploy.local.postgres import REPO
from tests.support import grant_flow
from tests.support.containers import compose, env_file, podman
from tests.support.stack import free_port_block

pytestmark = [pytest.mark.slow, pytest.mark.containers]

SERVICES = ("ledger", "funding", "diagnostics", "gateway")

if importlib.util.find_spec("podman_compose") is None:
    if os.environ.get("PROXIMA_CONTAINERS_REQUIRED"):
        raise RuntimeError("podman-compose is missing: make venv installs requirements-dev.txt")
    pytest.skip("podman-compose is not installed", allow_module_level=True)


def _env_from_example(port: int, tag: str, base: str) -> dict[str, str]:
    """.env.example with every change-me replaced by a fresh secret, as its header asks."""
    env = {}
    for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        env[key] = secrets.token_urlsafe(24) if value == "change-me" else value
    env.update(PROXIMA_GATEWAY_PORT=str(port), PROXIMA_IMAGE_TAG=tag, PROXIMA_PYTHON_IMAGE=base)
    return env


class ComposeStack:
    def __init__(self, work: Path) -> None:
        base = os.environ.get("PROXIMA_PYTHON_IMAGE", "debian")
        self.tag = content_tag(base)
        build_all(tag=self.tag, base=base, reuse_tagged=True)
        files = ["docker-compose.yml"]
        if base == "debian":
            build_standins()
            files.append("docker-compose.standins.yml")
        self.files = tuple(files)
        self.port = free_port_block()
        self.project = f"proxima-c{self.port}"
        self.values = _env_from_example(
            self.port, self.tag, DEBIAN_BASE if base == "debian" else base
        )
        self.env = env_file(work / "compose.env", self.values)
        self.gateway = f"http://127.0.0.1:{self.port}"

    def run(self, *args: str, timeout: float = 300) -> str:
        return compose(self.project, self.env, self.files, *args, timeout=timeout)

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def wait_ready(self, timeout: float = 240) -> float:
        started = time.monotonic()
        last = "no answer"
        while time.monotonic() - started < timeout:
            try:
                response = httpx.get(f"{self.gateway}/readyz", timeout=3)
                if response.status_code == 200:
                    return time.monotonic() - started
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(1)
        logs = podman("logs", "--tail", "30", self.container("gateway"), check=False)
        raise AssertionError(f"gateway not ready in {timeout}s: {last}\n{logs.stdout}{logs.stderr}")

    def wait_services(self, token: str, timeout: float = 240) -> float:
        """Wait until each service answers through the gateway. The gateway's /readyz is
        its own: a service still waiting for its migration job (compose restarts it until
        the job is done) answers 503 ``upstream-unavailable`` meanwhile."""
        started = time.monotonic()
        for path in (
            "/api/ledger/currencies",
            "/api/funding/programmes",
            "/api/diagnostics/sources",
        ):
            last = "no answer"
            while True:
                try:
                    response = httpx.get(
                        f"{self.gateway}{path}",
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=5,
                    )
                    if response.status_code == 200:
                        break
                    last = f"{response.status_code} {response.text[:300]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"{path} not served in {timeout}s: {last}")
                time.sleep(1)
        return time.monotonic() - started

    def exit_code(self, service: str) -> int:
        done = podman("inspect", "--format", "{{.State.ExitCode}}", self.container(service))
        return int(done.stdout.strip())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeStack]:
    stack = ComposeStack(tmp_path_factory.mktemp("compose"))
    try:
        stack.run("up", "-d", "--no-deps")
        yield stack
    finally:
        stack.run("down", "-v", "-t", "5", timeout=180)


def test_the_compose_stack_starts_serves_a_grant_payment_and_stops(stack: ComposeStack) -> None:
    waited = stack.wait_ready()
    print(f"compose stack ready in {waited:.1f} s after up")
    for service in SERVICES:
        job = stack.container(f"{service}-migrate")
        assert podman("inspect", "--format", "{{.State.ExitCode}}", job).stdout.strip() == "0"

    gateway = stack.gateway
    admin_token = grant_flow.token(gateway, "admin", stack.values["PROXIMA_BOOTSTRAP_ADMIN_SECRET"])
    print(f"services served through the gateway {stack.wait_services(admin_token):.1f} s later")
    admin = grant_flow.As(gateway, admin_token)
    accounts = grant_flow.ledger_setup(admin)
    grant_flow.transfer(admin, accounts["region"], accounts["bakery"], 4_321, "compose-1")
    assert admin.ok("GET", f"/ledger/accounts/{accounts['bakery']}/balance")["posted"] == 4_321
    app_id, applicant, officer = grant_flow.approved_application(gateway, admin_token, admin)
    link = {"programme_code": grant_flow.PROGRAMME, "application_id": app_id}
    applicant.ok("POST", f"/ledger/accounts/{accounts['project']}/grant-links", 201, json=link)
    tranche = grant_flow.pay_first_tranche(officer, app_id)
    assert (tranche["status"], tranche["paid_units"]) == ("paid", 900_000), tranche

    # The grace the Kubernetes base gives a pod (terminationGracePeriodSeconds: 30): one
    # clean-clone run saw the ledger still stopping after 20 s and killed (exit 137).
    stack.run("stop", "-t", "30")
    assert {s: stack.exit_code(s) for s in SERVICES} == dict.fromkeys(SERVICES, 0)
