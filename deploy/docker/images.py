"""Build the four service images from the one Dockerfile: ``make images``.

Usage: python -m deploy.docker.images [--base debian|IMAGE] [--tag TAG] [SERVICE ...]

The base image is ``python:3.11-slim`` unless told otherwise. Where no container registry
is reachable, ``--base debian`` builds ``localhost/proxima-base:bookworm`` once from
Debian packages (mmdebstrap, about 20 s to 2 min) and builds on it; it is reused while it
exists. Podman (preferred) or Docker builds; layers are cached by the engine, so a second
run only rebuilds what changed (the dependency stage only when requirements.txt does).

Podman builds here need the machine's network, CA bundle and pip configuration (a
corporate proxy may re-sign TLS); they are passed in when present. The containers test
(tests/containers/) calls :func:`build_all` with a tag derived from the content, so
parallel checkouts sharing one image store never run each other's code.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "docker" / "service.Dockerfile"
SERVICES = ("ledger", "funding", "diagnostics", "gateway")
DEFAULT_BASE = "python:3.11-slim"
DEBIAN_BASE = "localhost/proxima-base:bookworm"
# What the Dockerfile needs of its base: python (with venv) and the user tools.
DEBIAN_PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates", "passwd")
BASE_LOCK = Path(tempfile.gettempdir()) / "proxima-base-image.lock"


class ImageBuildError(RuntimeError):
    """An image could not be built; the message holds the engine's output tail."""


def engine() -> str:
    """``podman`` if installed, else ``docker``."""
    for name in ("podman", "docker"):
        if shutil.which(name):
            return name
    raise ImageBuildError("neither podman nor docker is installed (make tools installs podman)")


def image_exists(image: str) -> bool:
    """True when the local image store holds ``image``."""
    done = subprocess.run(
        [engine(), "image", "inspect", image], capture_output=True, text=True, check=False
    )
    return done.returncode == 0


def ensure_debian_base(image: str = DEBIAN_BASE) -> str:
    """Build the Debian base image with mmdebstrap unless it exists (under a machine-wide
    lock: the image store is shared by every checkout on the machine)."""
    if image_exists(image):
        return image
    if shutil.which("mmdebstrap") is None:
        raise ImageBuildError("mmdebstrap is not installed (make tools installs it)")
    with open(BASE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(image):
            return image
        with tempfile.TemporaryDirectory(prefix="proxima-base-") as work:
            tar = Path(work) / "base.tar"
            _run(
                [
                    "mmdebstrap",
                    "--quiet",
                    "--variant=minbase",
                    f"--include={','.join(DEBIAN_PACKAGES)}",
                    "bookworm",
                    str(tar),
                ]
            )
            _run([engine(), "import", str(tar), image])
    return image


def content_tag(base: str, services: tuple[str, ...] = SERVICES) -> str:
    """A tag naming exactly what an image holds: a hash of the base image's name, the
    Dockerfile, the requirements files, shared/ and the services' sources (caches excluded)."""
    digest = hashlib.sha256(base.encode() + b"\0")
    paths = [DOCKERFILE, ROOT / "requirements.txt", ROOT / "requirements-data.txt"]
    for folder in (ROOT / "shared", *(ROOT / "services" / s for s in services)):
        paths += sorted(p for p in folder.rglob("*") if p.is_file() and _in_image(p))
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"c{digest.hexdigest()[:12]}"


def prune_content_tags(keep: str, older_than: str = "24h") -> list[str]:
    """Untag content-tagged images (``proxima/<service>:c…``) older than ``older_than``,
    except ``keep``, so the machine's store does not grow with every change; an image a
    container still uses is left (its removal is refused). Returns the names removed."""
    listed = subprocess.run(
        [
            engine(),
            "images",
            "--filter",
            "reference=proxima/*:c*",
            "--filter",
            f"until={older_than}",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    removed = []
    for name in listed.stdout.split():
        if name.endswith(f":{keep}"):
            continue
        done = subprocess.run([engine(), "rmi", name], capture_output=True, check=False)
        if done.returncode == 0:
            removed.append(name)
    return removed


def _in_image(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")


def build_command(service: str, tag: str, base: str) -> list[str]:
    """The build command line of one service image."""
    command = [engine(), "build", "-f", str(DOCKERFILE), "--build-arg", f"SERVICE={service}"]
    command += ["--build-arg", f"PYTHON_IMAGE={base}", "-t", f"proxima/{service}:{tag}"]
    if command[0] == "podman":
        # docker format keeps the HEALTHCHECK (OCI images drop it); pip needs the host's
        # network, CA bundle and pip configuration.
        command = [*_podman_build(), *command[2:]]
        for mount in ("/etc/ssl/certs", "/etc/pip.conf"):
            if Path(mount).exists():
                command += ["-v", f"{mount}:{mount}:ro"]
    return [*command, str(ROOT)]


STANDINS = ROOT / "deploy" / "docker" / "standins"
POSTGRES_STANDIN = "localhost/proxima-standin-postgres:15"
KAFKA_STANDIN = "localhost/proxima-standin-kafka:4"


def build_standins() -> dict[str, str]:
    """Build the local stand-ins of the official postgres and apache/kafka images
    (docker-compose.standins.yml) on the Debian base; the Kafka jars are the ones Maven
    resolved for the tests, copied into a temporary build context."""
    from deploy.local.kafka_broker import KAFKA_DIR, fetch

    base = ensure_debian_base()
    _run([*_podman_build(), "--build-arg", f"BASE_IMAGE={base}", "-t", POSTGRES_STANDIN,
          str(STANDINS / "postgres")])  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="proxima-kafka-standin-") as work:
        context = Path(work)
        shutil.copytree(fetch(), context / "libs", ignore=shutil.ignore_patterns(".*"))
        for name in ("Dockerfile", "entrypoint.sh"):
            shutil.copy2(STANDINS / "kafka" / name, context / name)
        shutil.copy2(KAFKA_DIR / "log4j2.properties", context / "log4j2.properties")
        _run([*_podman_build(), "--build-arg", f"BASE_IMAGE={base}", "-t", KAFKA_STANDIN,
              str(context)])  # fmt: skip
    return {"postgres": POSTGRES_STANDIN, "kafka": KAFKA_STANDIN}


def _podman_build() -> list[str]:
    command = ["podman", "build", "--format", "docker", "--layers", "--network", "host"]
    for limit in build_ulimits():
        command += ["--ulimit", limit]
    return command


def build_ulimits() -> tuple[str, ...]:
    """Podman's default build ulimits exceed some machines' hard limits: cap them there."""
    limits = []
    for name, wanted, kind in (
        ("nofile", 20000, resource.RLIMIT_NOFILE),
        ("nproc", 4096, resource.RLIMIT_NPROC),
    ):
        hard = resource.getrlimit(kind)[1]
        value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        limits.append(f"{name}={value}:{value}")
    return tuple(limits)


def build_all(
    *,
    tag: str,
    base: str = DEFAULT_BASE,
    services: tuple[str, ...] = SERVICES,
    reuse_tagged: bool = False,
) -> dict[str, float]:
    """Build (or, from the layer cache, reuse) each service image; seconds per image.
    With ``reuse_tagged`` an image already carrying ``tag`` is not rebuilt: right for a
    :func:`content_tag`, which changes whenever the image would."""
    if base == "debian":
        base = ensure_debian_base()
    seconds = {}
    for service in services:
        started = time.monotonic()
        if reuse_tagged and image_exists(f"proxima/{service}:{tag}"):
            seconds[service] = 0.0
            continue
        _run(build_command(service, tag, base))
        seconds[service] = round(time.monotonic() - started, 1)
    return seconds


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-4000:]
        raise ImageBuildError(f"{' '.join(command)} failed ({done.returncode}):\n{tail}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", help=f"some of {', '.join(SERVICES)} (default all)")
    parser.add_argument(
        "--base",
        default=DEFAULT_BASE,
        help=f"base image, or 'debian' for {DEBIAN_BASE} built offline (default {DEFAULT_BASE})",
    )
    parser.add_argument("--tag", default="dev", help="image tag (default dev, as compose and k8s)")
    parser.add_argument(
        "--standins",
        action="store_true",
        help="also the local stand-ins of the postgres and kafka images (podman, offline)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown services {sorted(unknown)}; expected some of {', '.join(SERVICES)}")
    try:
        seconds = build_all(tag=args.tag, base=args.base, services=tuple(args.services) or SERVICES)
        if args.standins:
            for name, image in build_standins().items():
                print(f"{name} stand-in: {image}")
    except ImageBuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    for service, took in seconds.items():
        print(f"proxima/{service}:{args.tag}  {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
