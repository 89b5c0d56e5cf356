"""Schemathesis against the MERGED OpenAPI the gateway serves at ``/openapi.json``, on real
processes, with a valid administrator token, and with EVERY check schemathesis has
(``--checks all``: server errors, status codes, content types, headers, body schemas,
negative data rejected, positive data accepted, missing required headers, unsupported
methods and their ``Allow``, use after free, resource availability, ignored auth,
object-level authorisation), over all its phases (examples, coverage, fuzzing, stateful).

Why the CLI in a subprocess rather than ``case.call_and_validate``: the run-level checks
(use after free, resource availability, the stateful links) and the coverage phase (wrong
methods, missing headers, boundary values) only exist in schemathesis's own engine; its
NDJSON event stream tells, case by case, which check failed on which answer.

Bounded: a fixed seed, ``MAX_EXAMPLES`` per operation, two workers, and a hard timeout;
about a minute on two cores. ``/api/stream`` is left out (a Server-Sent Events stream
never ends).

Nothing is excused except schema-valid requests refused for a business reason, listed in
`BUSINESS_REFUSALS` with that reason: a ``positive_data_acceptance`` failure is forgiven
only when the answer is a 4xx problem whose ``code`` is listed. The test also fails when a
listed refusal was not seen at all, so the list stays true.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import admin_token, e2e_stack, role_token

pytestmark = [pytest.mark.slow]

ANONYMOUS_LIMITS = {
    "PROXIMA_ANONYMOUS_RATE_LIMIT_PER_MINUTE": "600000",
    "PROXIMA_ANONYMOUS_RATE_LIMIT_BURST": "100000",
}

MAX_EXAMPLES = 5
SEED = 1
TIMEOUT_S = 600
SKIPPED_PATHS = ("/api/stream",)  # never ends
FUZZ_CLIENT = "fuzz-admin-5d1c"

# Problem ``code`` → why a request that matches the schema is still refused (4xx). Only
# forgiven for the ``positive_data_acceptance`` check; every other check must pass. Each is a
# rule about the DATA (what exists, what was configured, how fields relate), which a JSON
# Schema cannot say.
BUSINESS_REFUSALS: dict[str, str] = {
    "invalid-cursor": "a cursor is opaque: any string matches its schema, only those the"
    " API returned are accepted",
    "invalid-diagnostics-input": "a period like 0000-01 matches YYYY-MM but is no month the"
    " diagnostics hold figures for",
    "conversion-not-allowed": "the currency exists but has no euro reserve configured",
    "not-a-voucher-currency": "programme operations on a currency of another kind",
    "demurrage-not-configured": "a demurrage run on a currency without demurrage",
    "credit-limit-out-of-policy": "a credit limit above what the currency's policy allows",
    "invalid-currency-rules": "rules that contradict each other (an issuance bonus on a"
    " currency not issued against euros)",
    "invalid-amount": "a posting of zero moves nothing",
    "invalid-card-number": "a card number failing its Luhn check digit",
    "invalid-hold-expiry": "a hold whose deadline is already past",
    "invalid-mandate": "a mandate whose dates or holder contradict the account",
    "invalid-period": "a period whose start is not before its end",
    "invalid-territory-code": "a code of the right shape naming no known territory",
    "unknown-account": "a body naming an account that does not exist",
    "unknown-action": "an action name of the right shape that is no workflow action (the"
    " answer lists the allowed ones)",
    "import-rejected": "a table whose rows break the import's rules (all or nothing)",
    "unreadable-body": "an import's CSV is any string to its schema (and an XLSX any bytes):"
    " an empty body, or one with no header row, is no table to read",
    "idempotency-keys-differ": "the idempotency key given twice, header and body, differently",
    "validation-failed: Value error, must be between the years 1900 and 2200": "funding dates"
    " outside 1900-2200 (they overflow once converted to UTC); a date-time format cannot"
    " bound the year",
    "validation-failed: Value error, closes must be after opens": "a directory listing's"
    " opening hours that close before they open: a JSON Schema cannot compare two fields",
    "invalid-schedule": "a schedule its operation could not run (a closing before 02:00 in"
    " Paris, demurrage without its fund account, a currency without demurrage rules)",
    "currency-not-convertible": "clearing on a currency that is not euro-backed, has no"
    " reserve or was not opted into clearing by its operator",
    "clearing-same-currency": "a clearing settlement naming one currency twice: a JSON Schema"
    " cannot compare two fields",
}


@dataclass(frozen=True)
class Found:
    operation: str
    check: str
    status: int | None
    problem: str | None  # the problem's code; for validation errors, code and messages
    message: str


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres,
        kafka=None,
        run_dir=tmp_path_factory.mktemp("openapi-fuzz"),
        # many anonymous calls from one address (tokens, 401 probes): not a rate-limit test
        extra_env=ANONYMOUS_LIMITS,
    ) as running:
        yield running


def _run_schemathesis(
    base_url: str, token: str, report_dir: Path, protected: list[str]
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        # One worker: with two, CPython 3.11's AST constructor is not thread-safe and
        # schemathesis occasionally stopped on "AST constructor recursion depth mismatch"
        # (a SystemError inside the tool, not an answer of ours; CPython gh-106905).
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "ndjson,json",
        "--report-dir",
        str(report_dir),
    ]
    for path in SKIPPED_PATHS:
        command += ["--exclude-path", path]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks",
        "PROXIMA_FUZZ_PROTECTED": ",".join(protected),
        "PYTHONPATH": str(REPO),
    }
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=report_dir,
        env=env,
        check=False,
    )


def _problem_code(interaction: dict[str, Any] | None) -> tuple[int | None, str | None]:
    if not interaction or not interaction.get("response"):
        return None, None
    response = interaction["response"]
    content = response.get("content") or {}
    raw = base64.b64decode(content["$base64"]) if "$base64" in content else b""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return int(response["status_code"]), None
    code = body["code"]
    messages = {str(e.get("msg")) for e in body.get("errors") or () if isinstance(e, dict)}
    if code == "validation-failed" and len(messages) == 1:
        code = f"{code}: {messages.pop()}"
    return int(response["status_code"]), code


def _failures(ndjson: Path) -> list[Found]:
    found: list[Found] = []
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check["status"] == "success":
                    continue
                failure = (check.get("failure_info") or {}).get("failure") or {}
                status, problem = _problem_code(recorder.get("interactions", {}).get(case_id))
                found.append(
                    Found(
                        operation=failure.get("operation") or recorder["label"],
                        check=check["name"],
                        status=status,
                        problem=problem,
                        message=str(failure.get("message", ""))[:400],
                    )
                )
    return found


def _excused(found: Found) -> bool:
    return (
        found.check == "positive_data_acceptance"
        and found.status is not None
        and 400 <= found.status < 500
        and found.problem in BUSINESS_REFUSALS
    )


def test_merged_openapi_through_the_gateway_with_every_check(stack: Stack, tmp_path: Path) -> None:
    # Its own administrator, so that the bootstrap one stays untouched; the hooks keep
    # generated requests off this client and off the key that signs its token.
    token = role_token(
        stack.gateway_url,
        admin_token(stack.gateway_url),
        client_id=FUZZ_CLIENT,
        role="admin",
        scopes=["admin"],
        tenants={kind: ["*"] for kind in ("currencies", "programmes", "envelopes", "territories")},
    )
    kid = jwt.get_unverified_header(token)["kid"]
    finished = _run_schemathesis(stack.gateway_url, token, tmp_path, [FUZZ_CLIENT, "admin", kid])
    reports = {
        p.suffix: p for p in tmp_path.glob("*json-*") if p.name.startswith(("json-", "ndjson-"))
    }
    assert ".json" in reports and ".ndjson" in reports, (
        f"no schemathesis report (exit {finished.returncode}):\n{finished.stdout[-3000:]}"
        f"\n{finished.stderr[-3000:]}"
    )
    summary = json.loads(reports[".json"].read_text())
    assert summary["complete"], f"run did not complete: {summary['stop_reason']}"
    assert not summary["errors"], f"schemathesis errors: {summary['errors']}"
    assert summary["operations"]["tested"] >= 140, summary["operations"]
    assert summary["test_cases"]["generated"] >= 2000, summary["test_cases"]

    print(  # the figures the README quotes
        f"schemathesis {summary['schemathesis_version']}: "
        f"{summary['test_cases']['generated']} cases over {summary['operations']['tested']}"
        f" operations in {summary['running_time']:.0f} s"
    )
    found = _failures(reports[".ndjson"])
    unexcused: dict[str, set[str]] = defaultdict(set)
    refusals_seen: set[str] = set()
    for failure in found:
        if _excused(failure):
            refusals_seen.add(str(failure.problem))
            continue
        unexcused[failure.operation].add(
            f"{failure.check} [{failure.status} {failure.problem}]: {failure.message}"
        )
    report = "\n".join(
        f"{operation}:\n    " + "\n    ".join(sorted(lines))
        for operation, lines in sorted(unexcused.items())
    )
    assert not unexcused, (
        f"{len(unexcused)} operations fail ({summary['test_cases']['generated']} cases):\n{report}"
    )
    unused = sorted(set(BUSINESS_REFUSALS) - refusals_seen)
    assert not unused, f"listed as business refusals but never seen, remove them: {unused}"
