"""Schemathesis fuzzes every ledger operation against a real uvicorn and PostgreSQL: no
5xx, and every response (errors included) conforms to the OpenAPI document."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

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

from services.ledger.app import create_app
from tests.integration.ledger.ledger_support import CURRENCY, ledger_settings, operator
from tests.support.ports import free_port

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def ledger_server(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> Iterator[str]:
    settings = ledger_settings(migrated_database("ledger"), new_database("events"))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    headers = operator(CURRENCY)
    seed = httpx.post(
        f"{base}/currencies",
        headers=headers,
        json={"code": CURRENCY, "kind": "euro_backed", "operator": "association"},
    )
    assert seed.status_code == 201, seed.text
    for kind in ("issuer", "member"):
        r = httpx.post(
            f"{base}/accounts", headers=headers, json={"currency": CURRENCY, "type": kind}
        )
        assert r.status_code == 201, r.text
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_fuzzing_the_ledger_api_finds_no_server_error_and_no_schema_drift(
    ledger_server: str,
) -> None:
    document = httpx.get(f"{ledger_server}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    headers = operator("*")  # every currency: requests get past the tenant check
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
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
                base_url=ledger_server, headers=headers, checks=CHECKS
            )
            statuses[response.status_code] += 1

        fuzz()
    # The fuzzer reached the handlers, not only the validation layer.
    assert {200, 201, 404, 409, 422} <= set(statuses), statuses
    assert not any(status >= 500 for status in statuses), statuses
