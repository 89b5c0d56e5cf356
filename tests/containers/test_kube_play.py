"""The Kubernetes Deployments we ship (``deploy/k8s/base``), played for real by Debian's
podman 4.3.1 ``kube play`` with their ConfigMap and Secrets, against the test session's
PostgreSQL and Kafka (SASL, ACLs) on the host.

podman is not a cluster: it runs no Jobs, resolves no Service names and crashes on a
Secret volume, so ``deploy/podman/kube_play.py`` changes exactly those three things (host
network with a port per service, migrations as one-off containers from the same images
as the Jobs' command, the signing-key Secret as a read-only host directory) and plays the
rest as written: the command, the security context (uid 10001, read-only root, no
capabilities), ``envFrom`` the ConfigMap and the optional Kafka Secret, every
``secretKeyRef``, the ``emptyDir`` and the funding documents' claim. There is no systemd,
so podman runs no probes: the test polls ``/readyz`` as the readiness probe would.

Every Deployment passes readiness; a token, a transfer and a grant payment go through the
gateway pod; every pod stops with exit code 0 on SIGTERM.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.docker.images import SERVICES
from deploy.local.postgres import LocalPostgres
from deploy.podman import kube_play
from tests.support import grant_flow
from tests.support.container_deployment import (
    ADMIN_SECRET,
    CARD_SECRET,
    IMAGE_UID,
    PORT_OFFSET,
    Deployment,
)
from tests.support.containers import ServiceContainer, podman, require_podman

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.containers]

require_podman()


class KubePlay:
    """The four Deployments played by ``podman kube play``, with what they read."""

    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self.prefix = f"kp{deployment.base}"
        self.work = deployment.work
        self.secrets: list[str] = []
        self.volumes: list[str] = []
        self.manifests: list[Path] = []
        self.pods: dict[str, ServiceContainer] = {}
        self.exit_codes: dict[str, int] = {}

    def port(self, service: str) -> int:
        return self.deployment.base + PORT_OFFSET[service]

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def secret(self, name: str, data: dict[str, str]) -> None:
        """A podman secret as 4.3.1's ``secretKeyRef`` reads it, written from a file
        readable by root only (a secret never goes on a command line)."""
        path = self.work / f"{name}.json"
        path.write_text(kube_play.podman_secret(data), encoding="utf-8")
        os.chmod(path, 0o600)
        full = f"{self.prefix}-{name}"
        podman("secret", "rm", full, check=False)
        podman("secret", "create", full, str(path))
        self.secrets.append(full)

    def claim(self, name: str) -> None:
        """The claim's volume, made beforehand so the image's user owns it (podman
        applies no ``fsGroup``)."""
        volume = f"{self.prefix}-{name}"
        podman("volume", "create", volume)
        self.volumes.append(volume)
        mountpoint = podman("volume", "inspect", "--format", "{{.Mountpoint}}", volume)
        os.chown(mountpoint.stdout.strip(), int(IMAGE_UID), int(IMAGE_UID))

    def config(self) -> Path:
        data = kube_play.base_config() | {
            "PROXIMA_KAFKA_BOOTSTRAP": self.deployment.kafka.bootstrap,
            "PROXIMA_KAFKA_REPLICATION_FACTOR": "1",
            "PROXIMA_JWKS_URL": f"{self.url('gateway')}/.well-known/jwks.json",
            "PROXIMA_LOG_LEVEL": "WARNING",
        }
        assert data["PROXIMA_ENV"] == "production"
        path = self.work / "proxima-config.yaml"
        document = kube_play.config_map(f"{self.prefix}-proxima-config", data)
        path.write_text(kube_play.manifest(document), encoding="utf-8")
        return path

    def play(self, service: str, config: Path, keys: Path) -> None:
        document = kube_play.playable(
            service,
            image=self.deployment.images[service],
            port=self.port(service),
            prefix=self.prefix,
            upstream_urls={
                f"PROXIMA_{upstream.upper()}_URL": self.url(upstream)
                for upstream in ("ledger", "funding", "diagnostics")
            },
            secret_directories={"gateway-jwt-keys": keys},
        )
        path = self.work / f"{service}-deployment.yaml"
        path.write_text(kube_play.manifest(document), encoding="utf-8")
        self.manifests.append(path)
        podman("kube", "play", "--configmap", str(config), str(path), timeout=180)
        name = document["metadata"]["name"]
        self.pods[service] = ServiceContainer(
            name=f"{name}-pod-0-{service}", port=self.port(service)
        )

    def up(self) -> None:
        deployment = self.deployment
        for service in SERVICES:
            deployment.migrate(service)
            self.secret(f"{service}-db", {"PROXIMA_DATABASE_URL": deployment.url(service, "app")})
            kafka = deployment.kafka.client_env(service)
            del kafka["PROXIMA_KAFKA_BOOTSTRAP"]  # the ConfigMap's
            self.secret(f"{service}-kafka", kafka)
        self.secret("ledger-card", {"PROXIMA_CARD_FINGERPRINT_SECRET": CARD_SECRET})
        self.secret("gateway-bootstrap", {"PROXIMA_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET})
        self.claim("funding-documents")
        keys = deployment.signing_key()
        config = self.config()
        # The gateway first: the services fetch its signing keys to verify tokens.
        self.play("gateway", config, keys)
        self.pods["gateway"].wait_ready()
        for service in ("ledger", "funding", "diagnostics"):
            self.play(service, config, keys)
        for service in ("ledger", "funding", "diagnostics"):
            self.pods[service].wait_ready()

    def down(self) -> None:
        """SIGTERM each pod's container (reverse order), keep its exit code, then
        ``kube down`` each manifest."""
        for service, pod in reversed(list(self.pods.items())):
            self.exit_codes[service] = pod.stop()

    def remove(self) -> None:
        for path in self.manifests:
            podman("kube", "down", str(path), check=False, timeout=120)
        for secret in self.secrets:
            podman("secret", "rm", secret, check=False)
        for volume in self.volumes:
            podman("volume", "rm", "--force", volume, check=False)


@pytest.fixture(scope="module")
def played(
    postgres: LocalPostgres,
    kafka: Any,
    images: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KubePlay]:
    deployment = Deployment(postgres, kafka, images, tmp_path_factory.mktemp("kubeplay"))
    play = KubePlay(deployment)
    try:
        started = time.monotonic()
        play.up()
        print(f"kube play: migrated and ready in {time.monotonic() - started:.1f} s")
        yield play
    finally:
        play.remove()


def test_the_kubernetes_deployments_play_serve_a_grant_payment_and_stop(
    played: KubePlay,
) -> None:
    for service, pod in played.pods.items():
        assert pod.running(), service
        assert pod.exec("id", "-u").stdout.strip() == IMAGE_UID, service
        written = pod.exec("sh", "-c", "echo x > /app/written")
        assert written.returncode != 0 and "Read-only file system" in written.stderr, service
        environment = pod.exec("printenv", "PROXIMA_ENV", "PROXIMA_KAFKA_USERNAME").stdout.split()
        assert environment == ["production", service], service  # ConfigMap and Secret

    gateway = played.url("gateway")
    admin_token = grant_flow.token(gateway, "admin", ADMIN_SECRET)
    admin = grant_flow.As(gateway, admin_token)
    accounts = grant_flow.ledger_setup(admin)
    moved = grant_flow.transfer(admin, accounts["region"], accounts["bakery"], 4_321, "kp-1")
    assert moved["id"]
    assert admin.ok("GET", f"/ledger/accounts/{accounts['bakery']}/balance")["posted"] == 4_321

    app_id, applicant, officer = grant_flow.approved_application(gateway, admin_token, admin)
    link = {"programme_code": grant_flow.PROGRAMME, "application_id": app_id}
    applicant.ok("POST", f"/ledger/accounts/{accounts['project']}/grant-links", 201, json=link)
    tranche = grant_flow.pay_first_tranche(officer, app_id)
    assert tranche["status"] == "paid", tranche
    assert admin.ok("GET", f"/ledger/accounts/{accounts['project']}/balance")["posted"] == 900_000
    # the funding pod wrote nothing outside its claim and /tmp: its documents live there
    assert played.pods["funding"].exec("test", "-w", "/var/lib/proxima/documents").returncode == 0

    played.down()
    assert played.exit_codes == dict.fromkeys(SERVICES, 0)
