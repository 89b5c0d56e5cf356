"""The four service images, built from the one Dockerfile and started for real with
podman in production mode (PROXIMA_ENV=production) as compose and Kubernetes start them:
read-only root filesystem, the image's non-root user, every capability dropped; against
the session's PostgreSQL and Kafka (SASL, ACLs), which run on the host (``--network
host``). Each migration runs as a one-off container from its service's image, as the
compose migration jobs do; the gateway's signing key is made by compose's one-shot
``gateway-keys`` command. Every service passes /readyz, a token, a transfer and a grant
payment go through the gateway container, and every container stops with exit code 0 on
SIGTERM. A production start missing a secret stops with the variable's name.

Images are built if absent, tagged by a hash of their content (parallel checkouts share
the machine's image store); layers are cached between runs. Where no registry is
reachable the base is the Debian-built ``localhost/proxima-base:bookworm``
(``PROXIMA_PYTHON_IMAGE`` names another, e.g. ``python:3.11-slim``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.docker.images import SERVICES
from deploy.local.postgres import LocalPostgres
from tests.support import grant_flow
from tests.support.container_deployment import (
    ADMIN_SECRET,
    IMAGE_UID,
    Deployment,
    production_env,
)
from tests.support.containers import env_file, require_podman, run_once

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.containers]

require_podman()


@pytest.fixture(scope="module")
def deployment(
    postgres: LocalPostgres,
    kafka: Any,
    images: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    deployment = Deployment(postgres, kafka, images, tmp_path_factory.mktemp("containers"))
    try:
        started = time.monotonic()
        deployment.up()
        print(f"migrated and started in {time.monotonic() - started:.1f} s")
        yield deployment
    finally:
        for container in deployment.containers.values():
            container.remove()  # after a failure; a no-op once down() ran


def test_the_production_images_migrate_start_serve_and_stop_cleanly(
    deployment: Deployment,
) -> None:
    # each migration job ran from its own image to its head revision
    assert set(deployment.migrations) == set(SERVICES)
    assert all(deployment.migrations.values()), deployment.migrations

    for service, container in deployment.containers.items():
        container.wait_ready(timeout=10)
        assert container.exec("id", "-u").stdout.strip() == IMAGE_UID, service
        written = container.exec("sh", "-c", "echo x > /app/written")
        assert written.returncode != 0 and "Read-only file system" in written.stderr, service

    gateway = deployment.containers["gateway"].url
    admin_token = grant_flow.token(gateway, "admin", ADMIN_SECRET)
    admin = grant_flow.As(gateway, admin_token)
    accounts = grant_flow.ledger_setup(admin)

    moved = grant_flow.transfer(admin, accounts["region"], accounts["bakery"], 12_345, "ctr-1")
    assert moved["id"]
    bakery = admin.ok("GET", f"/ledger/accounts/{accounts['bakery']}/balance")
    assert bakery["posted"] == 12_345

    app_id, applicant, officer = grant_flow.approved_application(gateway, admin_token, admin)
    link = {"programme_code": grant_flow.PROGRAMME, "application_id": app_id}
    applicant.ok("POST", f"/ledger/accounts/{accounts['project']}/grant-links", 201, json=link)
    tranche = grant_flow.pay_first_tranche(officer, app_id)
    assert tranche["status"] == "paid", tranche
    assert tranche["paid_units"] == 900_000
    project = admin.ok("GET", f"/ledger/accounts/{accounts['project']}/balance")
    assert project["posted"] == 900_000

    started = time.monotonic()
    deployment.down()
    assert deployment.exit_codes == dict.fromkeys(SERVICES, 0)
    print(f"stopped in {time.monotonic() - started:.1f} s")


@pytest.mark.parametrize(
    ("service", "missing"),
    [("ledger", "PROXIMA_CARD_FINGERPRINT_SECRET"), ("gateway", "PROXIMA_BOOTSTRAP_ADMIN_SECRET")],
)
def test_a_production_start_without_a_secret_stops_naming_it(
    images: dict[str, str], kafka: Any, tmp_path: Path, service: str, missing: str
) -> None:
    env = production_env(service, "postgresql+asyncpg://nobody@127.0.0.1:9/none", kafka, 9)
    del env[missing]
    command = ["uvicorn", "--factory", f"services.{service}.app:create_app", "--port", "9"]
    done = run_once(images[service], env_file(tmp_path / "env", env), command)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"{missing} keeps its default value" in output, output[-3000:]
    assert env["PROXIMA_KAFKA_PASSWORD"] not in output  # the refusal echoes no secret
