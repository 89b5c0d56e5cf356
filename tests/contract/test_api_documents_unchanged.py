"""The API documents partners generate clients from do not change by accident: each
service's OpenAPI document (operation ids, paths, schemas, declared problems) equals the
snapshot committed beside this test, and so does the AsyncAPI document of the events.

A deliberate change regenerates them in the same commit:
``python -m tests.contract.test_api_documents_unchanged``; the diff is then reviewed like
code. A restructure of the code (issue "One shape for every service") must leave them as
they are.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

SERVICES = ("ledger", "funding", "diagnostics", "gateway")
SNAPSHOTS = Path(__file__).parent / "snapshots"
ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "events" / "asyncapi.json"


def openapi_of(service: str, keys_dir: str) -> dict[str, Any]:
    """The service's OpenAPI document as its factory builds it (nothing started)."""
    os.environ["PROXIMA_ENV"] = "test"
    os.environ["PROXIMA_RUN_BACKGROUND_TASKS"] = "false"
    os.environ["PROXIMA_SIGNING_KEYS_DIR"] = keys_dir
    app = importlib.import_module(f"services.{service}.app").create_app()
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return document


def snapshot_path(service: str) -> Path:
    return SNAPSHOTS / f"{service}.openapi.json"


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_document_matches_its_snapshot(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PROXIMA_ENV", "PROXIMA_RUN_BACKGROUND_TASKS", "PROXIMA_SIGNING_KEYS_DIR"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    current = openapi_of(service, str(tmp_path / "keys"))
    expected = json.loads(snapshot_path(service).read_text())
    assert current == expected, (
        f"{service}'s OpenAPI changed; if on purpose, regenerate the snapshots "
        "(python -m tests.contract.test_api_documents_unchanged)"
    )


def test_asyncapi_document_matches_its_snapshot() -> None:
    assert json.loads(ASYNCAPI.read_text()) == json.loads((SNAPSHOTS / "asyncapi.json").read_text())


def regenerate() -> None:
    SNAPSHOTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as keys:
        for service in SERVICES:
            text = json.dumps(openapi_of(service, keys), indent=1, sort_keys=True)
            snapshot_path(service).write_text(text + "\n")
    (SNAPSHOTS / "asyncapi.json").write_text(ASYNCAPI.read_text())
    print(f"wrote {len(SERVICES) + 1} snapshots under {SNAPSHOTS}", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
