"""The HTTP edge as a newcomer meets it, through the gateway, on real processes: what
``OPTIONS`` and a wrong method say, a body of the wrong type, the problem's ``instance``,
lax coercions refused, encoded paths, hostile tokens and bodies, document headers and
``/metrics``. Each case once, by hand; `test_gateway_openapi_fuzz` covers the breadth."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import admin_token, e2e_stack

pytestmark = [pytest.mark.slow]

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=None, run_dir=tmp_path_factory.mktemp("http-edges")
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    token = admin_token(stack.gateway_url)
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="module")
def account(api: httpx.Client) -> str:
    """A mutual-credit currency EDGE with one member account."""
    created = api.post(
        "/api/ledger/currencies",
        json={"code": "EDGE", "kind": "mutual_credit", "operator": "Réseau Edge"},
    )
    assert created.status_code == 201, created.text
    opened = api.post("/api/ledger/accounts", json={"currency": "EDGE", "type": "member"})
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["code"] == code, body
    return body


def test_options_lists_every_method_of_the_resource(api: httpx.Client) -> None:
    for path, methods in [
        ("/api/ledger/accounts", "GET, HEAD, OPTIONS, POST"),
        ("/admin/clients", "GET, HEAD, OPTIONS, POST"),
        ("/api/funding/programmes", "GET, HEAD, OPTIONS, POST"),
    ]:
        answer = api.options(path)
        assert answer.status_code == 204, (path, answer.text)
        assert answer.headers["allow"] == methods, path


def test_a_method_the_resource_lacks_is_405_naming_the_others(api: httpx.Client) -> None:
    for path in ["/api/ledger/accounts", "/admin/clients"]:
        answer = api.put(path, json={})
        _problem(answer, 405, "method-not-allowed")
        assert answer.headers["allow"] == "GET, HEAD, OPTIONS, POST", path
    # a gateway resource under /api/ (the dashboard), not a service
    dashboard = api.put("/api/dashboard/summary")
    _problem(dashboard, 405, "method-not-allowed")
    assert dashboard.headers["allow"] == "GET, HEAD, OPTIONS"


def test_a_body_of_the_wrong_type_is_415_naming_the_expected_one(
    api: httpx.Client, stack: Stack
) -> None:
    sent = api.post(
        "/api/ledger/accounts",
        content=b'{"currency": "EDGE", "type": "member"}',
        headers={"Content-Type": "text/plain"},
    )
    body = _problem(sent, 415, "unsupported-media-type")
    assert body["expected"] == "application/json"
    assert body["instance"] == "/api/ledger/accounts"

    token = httpx.post(
        f"{stack.gateway_url}/oauth/token",
        json={"grant_type": "client_credentials", "client_id": "admin", "client_secret": "x"},
        timeout=30,
    )
    body = _problem(token, 415, "unsupported-media-type")
    assert body["expected"] == "application/x-www-form-urlencoded"
    assert "form" in str(body["detail"])


def test_the_problem_instance_is_the_path_the_caller_used(api: httpx.Client) -> None:
    missing = uuid.uuid4()
    body = _problem(api.get(f"/api/ledger/accounts/{missing}"), 404, "not-found")
    assert body["instance"] == f"/api/ledger/accounts/{missing}"
    body = _problem(api.get("/api/funding/programmes/NOPE"), 404, "not-found")
    assert body["instance"] == "/api/funding/programmes/NOPE"


def test_a_proxied_answer_carries_one_date_and_one_server_header(
    api: httpx.Client, account: str
) -> None:
    answer = api.get(f"/api/ledger/accounts/{account}/balance")
    assert answer.status_code == 200, answer.text
    for name in ("date", "server"):
        assert len(answer.headers.get_list(name)) == 1, answer.headers.get_list(name)


def test_lax_coercions_of_money_limits_and_dates_are_refused(
    api: httpx.Client, account: str
) -> None:
    for credit_limit in (False, True, "5", 1.5):
        sent = api.post(
            "/api/ledger/accounts",
            json={"currency": "EDGE", "type": "member", "credit_limit": credit_limit},
        )
        body = _problem(sent, 422, "validation-failed")
        assert ["body", "credit_limit"] == body["errors"][0]["loc"][:2], body  # type: ignore[index]
    whole = api.post(
        "/api/ledger/accounts", json={"currency": "EDGE", "type": "member", "credit_limit": 0.0}
    )
    assert whole.status_code == 201, whole.text  # 0.0 is a JSON integer

    at = api.get(f"/api/ledger/accounts/{account}/balance", params={"at": "0.5"})
    assert _problem(at, 422, "validation-failed")["errors"][0]["loc"] == ["query", "at"]  # type: ignore[index]
    to = api.get("/api/ledger/currencies/EDGE/journal.csv", params={"to": "0"})
    assert _problem(to, 422, "validation-failed")["errors"][0]["loc"] == ["query", "to"]  # type: ignore[index]
    ok = api.get("/api/ledger/currencies/EDGE/journal.csv", params={"to": "2026-01-31"})
    assert ok.status_code == 200, ok.text


def test_an_unknown_currency_says_so(api: httpx.Client) -> None:
    body = _problem(api.get("/api/ledger/currencies/NOPE/programme"), 404, "currency-not-found")
    assert body["instance"] == "/api/ledger/currencies/NOPE/programme"
    opened = api.post("/api/ledger/accounts", json={"currency": "NOPE", "type": "member"})
    _problem(opened, 404, "currency-not-found")


def test_encoded_paths_are_decoded_before_they_are_routed(api: httpx.Client, account: str) -> None:
    # %2F is a slash once decoded: the ledger's /accounts
    routed = api.get("/api/ledger%2Faccounts?currency=EDGE")
    assert routed.status_code == 200, routed.text
    for path in ["/api/ledger/%2e%2e/funding/programmes", "/api/ledger/accounts%2F..%2F..%2Fx"]:
        _problem(api.get(path), 404, "not-found")


def test_hostile_tokens_and_bodies_are_4xx(api: httpx.Client, stack: Stack) -> None:
    def segment(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    real = str(api.headers["authorization"]).split()[1]
    kid = json.loads(base64.urlsafe_b64decode(real.split(".")[0] + "=="))["kid"]
    for alg in ("HS256", "none", "RS256"):
        forged = f"{segment({'alg': alg, 'kid': kid})}.{segment({'sub': 'admin'})}.c2ln"
        answer = httpx.get(
            f"{stack.gateway_url}/api/ledger/accounts",
            headers={"Authorization": f"Bearer {forged}"},
            timeout=30,
        )
        _problem(answer, 401, "unauthorized")

    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ["/api/ledger/accounts", "/admin/clients"]:
        sent = api.post(path, content=deep, headers={"Content-Type": "application/json"})
        _problem(sent, 422, "body-too-deeply-nested")
    broken = api.post(
        "/api/ledger/accounts",
        content=b'{"currency": ',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code in {400, 422}, broken.text


def test_documents_are_attachments_never_sniffed(api: httpx.Client, account: str) -> None:
    for path in [
        f"/api/ledger/accounts/{account}/statement.csv"
        "?since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z",
        "/api/ledger/currencies/EDGE/journal.csv",
    ]:
        answer = api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-disposition"].startswith("attachment"), path
        assert answer.headers["x-content-type-options"] == "nosniff", path
    assert api.get("/api/ledger/accounts").headers["x-content-type-options"] == "nosniff"


def test_metrics_are_not_public(api: httpx.Client, stack: Stack) -> None:
    anonymous = httpx.get(f"{stack.gateway_url}/metrics", timeout=30)
    _problem(anonymous, 401, "unauthorized")
    scraped = api.get("/metrics")
    assert scraped.status_code == 200
    assert "proxima_http_requests_total" in scraped.text
