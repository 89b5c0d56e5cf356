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

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.docker.images import SERVICES, build_all, content_tag, prune_content_tags
from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import APPEND_ONLY
from tests.support import grant_flow
from tests.support.containers import ServiceContainer, env_file, podman, run_once
from tests.support.stack import free_port_block

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.containers]

ADMIN_SECRET = "containers-admin-secret-0123456789"
CARD_SECRET = "containers-card-secret-0123456789"
KEY_DIR_IN_CONTAINER = "/etc/proxima/jwt"
PORT_OFFSET = {"gateway": 0, "ledger": 1, "funding": 2, "diagnostics": 3}
IMAGE_UID = "10001"

if shutil.which("podman") is None:
    if os.environ.get("PROXIMA_CONTAINERS_REQUIRED"):
        raise RuntimeError("podman is missing: `make tools` installs it (as root)")
    pytest.skip("podman is not installed (make tools installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    """proxima/<service>:<content hash>, built unless the store already has them (a
    changed file changes the tag, and the engine's layer cache rebuilds only what changed)."""
    base = os.environ.get("PROXIMA_PYTHON_IMAGE", "debian")
    tag = content_tag(base)
    started = time.monotonic()
    seconds = build_all(tag=tag, base=base, reuse_tagged=True)
    prune_content_tags(keep=tag)
    print(f"images {tag} on {base}: {time.monotonic() - started:.1f} s {seconds}")
    return {service: f"proxima/{service}:{tag}" for service in SERVICES}


def _production_env(service: str, database_url: str, kafka: Any, base: int) -> dict[str, str]:
    """What compose gives each service (docker-compose.yml), pointed at the host."""
    env = {
        "PROXIMA_ENV": "production",
        "PROXIMA_SERVICE_NAME": service,
        "PROXIMA_DATABASE_URL": database_url,
        "PROXIMA_EVENT_BUS": "kafka",
        **kafka.client_env(service),
        "PROXIMA_LOG_LEVEL": "WARNING",
        "PROXIMA_JWKS_URL": f"http://127.0.0.1:{base}/.well-known/jwks.json",
    }
    if service == "ledger":
        env["PROXIMA_CARD_FINGERPRINT_SECRET"] = CARD_SECRET
    if service == "funding":
        env["PROXIMA_DOCUMENTS_DIR"] = "/var/lib/proxima/documents"
    if service == "gateway":
        for upstream in ("ledger", "funding", "diagnostics"):
            env[f"PROXIMA_{upstream.upper()}_URL"] = (
                f"http://127.0.0.1:{base + PORT_OFFSET[upstream]}"
            )
        env["PROXIMA_JWT_PRIVATE_KEYS_FILE"] = f"{KEY_DIR_IN_CONTAINER}/jwt-private-keys.pem"
        env["PROXIMA_BOOTSTRAP_ADMIN_SECRET"] = ADMIN_SECRET
    return env


def _owned_dir(path: Path) -> Path:
    """A host directory the image's user (uid 10001) may write, for a volume."""
    path.mkdir(parents=True)
    os.chown(path, int(IMAGE_UID), int(IMAGE_UID))
    return path


class Deployment:
    """Databases, migration jobs, the four service containers, their clean stop."""

    def __init__(self, postgres: LocalPostgres, kafka: Any, images: dict[str, str], work: Path):
        self.postgres, self.kafka, self.images, self.work = postgres, kafka, images, work
        self.base = free_port_block()
        self.prefix = f"ctr{self.base}"
        self.containers: dict[str, ServiceContainer] = {}
        self.migrations: dict[str, str] = {}
        self.exit_codes: dict[str, int] = {}

    def role(self, service: str, kind: str) -> str:
        return f"{self.prefix}_{service}_{kind}"

    def url(self, service: str, kind: str) -> str:
        return self.postgres.database_url(f"{self.prefix}_{service}", user=self.role(service, kind))

    def migrate(self, service: str) -> None:
        """The compose migration job: the service's image, its owner role."""
        owner = self.role(service, "owner")
        self.postgres.ensure_role(owner)
        self.postgres.create_database(f"{self.prefix}_{service}", recreate=True, owner=owner)
        env = self._env(service, f"{service}-migrate", self.url(service, "owner"))
        done = run_once(self.images[service], env, ["python", "-m", "shared.migrate", service])
        assert done.returncode == 0, f"{service} migration: {done.stdout}{done.stderr}"
        self.migrations[service] = self.postgres.psql(
            "SELECT version_num FROM alembic_version", database=f"{self.prefix}_{service}"
        ).strip()
        self.postgres.ensure_role(self.role(service, "app"), grants=("pg_read_all_stats",))
        self.postgres.grant_app_role(
            f"{self.prefix}_{service}",
            owner=owner,
            app=self.role(service, "app"),
            append_only=APPEND_ONLY.get(service, ()),
        )

    def _env(self, service: str, label: str, database_url: str) -> Path:
        env = _production_env(service, database_url, self.kafka, self.base)
        return env_file(self.work / f"{label}.env", env)

    def signing_key(self) -> Path:
        """compose's one-shot ``gateway-keys``: as root in the gateway image, it writes
        the key into the volume, owned by the image's user."""
        keys = self.work / "jwtkeys"
        keys.mkdir()
        script = REPO / "deploy" / "docker" / "gen_dev_jwt_key.py"
        done = podman(
            "run", "--rm", "--user", "0:0", "--network", "none",
            "-v", f"{script}:/opt/proxima/gen_dev_jwt_key.py:ro",
            "-v", f"{keys}:{KEY_DIR_IN_CONTAINER}",
            self.images["gateway"],
            "python", "/opt/proxima/gen_dev_jwt_key.py",
            f"{KEY_DIR_IN_CONTAINER}/jwt-private-keys.pem",
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return keys

    def start(self, service: str, mounts: tuple[str, ...] = ()) -> ServiceContainer:
        container = ServiceContainer.start(
            name=f"{self.prefix}-{service}",
            image=self.images[service],
            service=service,
            port=self.base + PORT_OFFSET[service],
            env=self._env(service, service, self.url(service, "app")),
            mounts=mounts,
        )
        self.containers[service] = container
        return container

    def up(self) -> None:
        for service in SERVICES:
            self.migrate(service)
        keys = self.signing_key()
        documents = _owned_dir(self.work / "fundingdocs")
        # The gateway first: the services fetch its signing keys to verify tokens.
        self.start("gateway", (f"{keys}:{KEY_DIR_IN_CONTAINER}:ro",)).wait_ready()
        self.start("ledger")
        self.start("funding", (f"{documents}:/var/lib/proxima/documents",))
        self.start("diagnostics")
        for service in ("ledger", "funding", "diagnostics"):
            self.containers[service].wait_ready()

    def down(self) -> None:
        """Stop in the reverse order (SIGTERM), keeping each exit code; then remove."""
        for service, container in reversed(list(self.containers.items())):
            try:
                self.exit_codes[service] = container.stop()
            finally:
                container.remove()


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
    env = _production_env(service, "postgresql+asyncpg://nobody@127.0.0.1:9/none", kafka, 9)
    del env[missing]
    command = ["uvicorn", "--factory", f"services.{service}.app:create_app", "--port", "9"]
    done = run_once(images[service], env_file(tmp_path / "env", env), command)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"{missing} keeps its default value" in output, output[-3000:]
    assert env["PROXIMA_KAFKA_PASSWORD"] not in output  # the refusal echoes no secret
