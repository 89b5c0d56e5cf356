"""Service containers run with podman the way compose and Kubernetes run them: read-only
root filesystem with a tmpfs on /tmp, every capability dropped, no privilege escalation,
the image's non-root user. They share the host's network, so they reach the test
session's PostgreSQL and Kafka on 127.0.0.1 and each service listens on its own port.

Settings go in through an env file (mode 0600), as compose takes them from ``.env``:
secrets never appear on a command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def require_podman() -> None:
    """Skip the calling test module where podman is missing, unless ``make test`` runs it
    (``PROXIMA_CONTAINERS_REQUIRED``): there a missing podman is an error, not a skip."""
    if shutil.which("podman") is None:
        if os.environ.get("PROXIMA_CONTAINERS_REQUIRED"):
            raise RuntimeError("podman is missing: `make tools` installs it (as root)")
        pytest.skip("podman is not installed (make tools installs it)", allow_module_level=True)


HARDENING = (
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--network",
    "host",
)


def podman(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run podman; on failure the error holds its output."""
    done = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} → {done.returncode}\n{done.stderr}")
    return done


def env_file(path: Path, env: dict[str, str]) -> Path:
    """Write ``env`` as an env file readable by its owner only."""
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
    os.chmod(path, 0o600)
    return path


def run_once(
    image: str, env: Path, command: list[str], *, mounts: tuple[str, ...] = (), user: str = ""
) -> subprocess.CompletedProcess[str]:
    """A one-off container (a migration job): hardened, removed when it exits."""
    args = ["run", "--rm", *HARDENING, "--env-file", str(env)]
    for mount in mounts:
        args += ["-v", mount]
    if user:
        args += ["--user", user]
    return podman(*args, image, *command, timeout=180, check=False)


@dataclass
class ServiceContainer:
    """One service started detached, listening on ``port`` of the host's network."""

    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        *,
        name: str,
        image: str,
        service: str,
        port: int,
        env: Path,
        mounts: tuple[str, ...] = (),
    ) -> ServiceContainer:
        """Start the service as compose's and Kubernetes' command does, on ``port``."""
        args = ["run", "--detach", "--name", name, *HARDENING, "--env-file", str(env)]
        for mount in mounts:
            args += ["-v", mount]
        command = ["uvicorn", "--factory", f"services.{service}.app:create_app"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"]
        command += ["--timeout-graceful-shutdown", "15"]
        podman(*args, image, *command)
        return cls(name=name, port=port)

    def logs(self) -> str:
        done = podman("logs", self.name, check=False)
        return (done.stdout + done.stderr)[-6000:]

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return podman("exec", self.name, *command, check=False)

    def running(self) -> bool:
        done = podman("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return done.stdout.strip() == "true"

    def wait_ready(self, timeout: float = 90) -> None:
        """Poll /readyz (no systemd here, so podman runs no health checks)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(f"{self.name} exited before ready:\n{self.logs()}")
            try:
                response = httpx.get(f"{self.url}/readyz", timeout=3)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise AssertionError(f"{self.name} not ready in {timeout}s: {last}\n{self.logs()}")

    def stop(self, timeout: int = 20) -> int:
        """SIGTERM, as compose and Kubernetes stop a container; the exit code."""
        podman("stop", "--time", str(timeout), self.name, timeout=timeout + 30)
        done = podman("inspect", "--format", "{{.State.ExitCode}}", self.name)
        return int(done.stdout.strip())

    def remove(self) -> None:
        podman("rm", "--force", self.name, check=False)


def compose(
    project: str, env: Path, files: tuple[str, ...], *args: str, timeout: float = 300
) -> str:
    """Run podman-compose (the PyPI release pinned in requirements-dev.txt) on the
    repository's compose files; its output, or an error holding it."""
    from deploy.local.postgres import REPO

    command = [sys.executable, "-m", "podman_compose", "--env-file", str(env), "-p", project]
    for name in files:
        command += ["-f", str(REPO / name)]
    done = subprocess.run(
        [*command, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(
            f"podman-compose {' '.join(args)} → {done.returncode}\n{output[-4000:]}"
        )
    return output
