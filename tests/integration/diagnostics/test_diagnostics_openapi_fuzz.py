"""Schemathesis fuzzes every diagnostics operation against a real uvicorn on PostgreSQL with
the demo data loaded: no 5xx, and every response conforms to the OpenAPI document.

(Named with the service prefix: tests/integration/{ledger,funding}/test_openapi_fuzz.py
already share a basename, which pytest's default import mode refuses.)
"""

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

from services.diagnostics.app import create_app
from tests.integration.diagnostics.diagnostics_support import ADMIN, settings_for
from tests.support.ports import free_port
from tests.support.tokens import bearer

EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZER = bearer(
    scopes=["diagnostics:read", "diagnostics:import"],
    tenants={"territories": ["*"]},
    client_id="fuzzer",
    ttl_s=7200,
)


@pytest.fixture
def diagnostics_server(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> Iterator[str]:
    """A real uvicorn in a thread, with the demo data loaded."""
    config = uvicorn.Config(
        create_app(settings_for(migrated_database("diagnostics"), new_database("events"))),
        host="127.0.0.1",
        port=free_port(),
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        assert time.monotonic() - started < 30, "uvicorn did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{config.port}"
    try:
        assert httpx.post(f"{base}/admin/demo", headers=ADMIN).status_code == 200
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_fuzzing_finds_no_server_error_and_no_drift_from_the_schema(
    diagnostics_server: str,
) -> None:
    document = httpx.get(f"{diagnostics_server}/openapi.json").json()
    operations = [r.ok() for r in schemathesis.openapi.from_dict(document).get_all_operations()]
    assert len(operations) >= 16
    statuses: Counter[int] = Counter()

    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(base_url=diagnostics_server, headers=FUZZER)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        fuzz()

    assert statuses[200] + statuses[201] > 0, statuses
    assert not [code for code in statuses if code >= 500], statuses
