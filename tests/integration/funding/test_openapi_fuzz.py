"""Schemathesis fuzzes every funding operation against a real uvicorn and PostgreSQL: no
5xx, and every response (errors included) conforms to the published OpenAPI document."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.funding.app import create_app
from tests.integration.funding.conftest import actor, funding_settings
from tests.support.ports import free_port

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 20
EVERYTHING = actor(
    "regional_admin",
    "funding:admin",
    "funding:read",
    "funding:apply",
    "funding:instruct",
    "funding:decide",
    "funding:pay",
    programmes=("*",),
    envelopes=("*",),
)


def _seed(base: str) -> None:
    """A programme, an envelope, an accompanist and a draft, so handlers get past lookups."""
    calls = [
        (
            "/programmes",
            {
                "code": "IDECLIC",
                "name": "IDéclic",
                "operator": "Région",
                "eligible_territories": ["38"],
                "legal_forms": ["scic"],
                "project_stages": ["creation"],
            },
        ),
        (
            "/programmes/IDECLIC/envelopes",
            {
                "code": "IDECLIC-2026",
                "year": 2026,
                "ap_cents": 10**9,
                "cp_cents": 10**9,
            },
        ),
        ("/accompanists", {"id": "acc-38", "name": "Isère", "territories": ["38"]}),
        (
            "/applications",
            {
                "envelope_code": "IDECLIC-2026",
                "applicant_name": "SCIC",
                "legal_form": "scic",
                "project_stage": "creation",
                "title": "Projet",
                "commune_insee_code": "38185",
                "requested_amount_cents": 100_000,
            },
        ),
    ]
    for path, body in calls:
        response = httpx.post(f"{base}{path}", json=body, headers=EVERYTHING)
        assert response.status_code == 201, response.text


@pytest.fixture
def funding_server(
    migrated_database: Callable[[str], str],
    new_database: Callable[[str], str],
    tmp_path: Path,
) -> Iterator[str]:
    settings = funding_settings(
        migrated_database("funding"), new_database("events"), tmp_path / "documents"
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    _seed(base)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_fuzzing_the_funding_api_finds_no_server_error_and_no_schema_drift(
    funding_server: str,
) -> None:
    document = httpx.get(f"{funding_server}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35
    statuses: Counter[int] = Counter()
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                base_url=funding_server, headers=EVERYTHING, checks=CHECKS
            )
            statuses[response.status_code] += 1

        fuzz()
    assert {200, 201, 404, 422} <= set(statuses), statuses
    assert not any(status >= 500 for status in statuses), statuses
