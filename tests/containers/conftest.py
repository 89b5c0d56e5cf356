"""Fixtures of the containers tests: the four images, built once per session."""

from __future__ import annotations

import os
import time

import pytest

from deploy.docker.images import SERVICES, build_all, content_tag, prune_content_tags


@pytest.fixture(scope="session")
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
