"""The production deployment the containers tests start with podman: each service's
database and roles, its migration run as a one-off container from its image (what the
compose migration jobs and the Kubernetes migration Jobs run), the gateway's signing key
made by compose's one-shot ``gateway-keys``, and the settings compose gives a service,
pointed at the test session's PostgreSQL and Kafka on the host."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deploy.docker.images import SERVICES
from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import APPEND_ONLY
from tests.support.containers import ServiceContainer, env_file, podman, run_once
from tests.support.stack import free_port_block

ADMIN_SECRET = "containers-admin-secret-0123456789"
CARD_SECRET = "containers-card-secret-0123456789"
KEY_DIR_IN_CONTAINER = "/etc/proxima/jwt"
PORT_OFFSET = {"gateway": 0, "ledger": 1, "funding": 2, "diagnostics": 3}
IMAGE_UID = "10001"


def production_env(service: str, database_url: str, kafka: Any, base: int) -> dict[str, str]:
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


def owned_dir(path: Path) -> Path:
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
        env = production_env(service, database_url, self.kafka, self.base)
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
        documents = owned_dir(self.work / "fundingdocs")
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
