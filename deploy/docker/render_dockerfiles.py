"""Write services/<name>/Dockerfile from the one template, deploy/docker/service.Dockerfile.

Usage: python deploy/docker/render_dockerfiles.py [--check]
With --check nothing is written; the exit status is 1 when a copy is missing or stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "docker" / "service.Dockerfile"
SERVICES = ("ledger", "funding", "diagnostics", "gateway")
ARG_LINE = "ARG SERVICE\n"


def render(service: str) -> str:
    """Return the Dockerfile text of one service: the template with its SERVICE default."""
    text = TEMPLATE.read_text(encoding="utf-8")
    if text.count(ARG_LINE) != 1:
        raise SystemExit(f"{TEMPLATE} must contain exactly one line {ARG_LINE!r}")
    header = (
        f"# GENERATED from deploy/docker/service.Dockerfile for the {service} service by\n"
        "# deploy/docker/render_dockerfiles.py: edit the template, then run that script.\n"
    )
    return header + text.replace(ARG_LINE, f"ARG SERVICE={service}\n")


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) every service's Dockerfile."""
    check = "--check" in argv
    stale = []
    for service in SERVICES:
        target = ROOT / "services" / service / "Dockerfile"
        wanted = render(service)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == wanted:
            continue
        if check:
            stale.append(str(target.relative_to(ROOT)))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(wanted, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("stale Dockerfiles (run python deploy/docker/render_dockerfiles.py):", *stale)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
