"""The demo region `make run` loads: complete, reachable with the printed demo credentials,
and idempotent (a second run changes nothing but the demo secrets)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest

from deploy.local import seed
from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import ADMIN_SECRET, e2e_stack

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=None, run_dir=tmp_path_factory.mktemp("seed")
    ) as running:
        yield running


def _token(gateway: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{gateway}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_demo_region_is_seeded_once_and_usable_with_the_printed_credentials(stack: Stack) -> None:
    with mock.patch.dict(os.environ, {"PROXIMA_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET}):
        seed.seed_demo_region(stack)
        counts_before = _counts(stack)
        seed.seed_demo_region(stack)  # idempotent
        assert _counts(stack) == counts_before

    credentials = Path(stack.run_dir / "demo-credentials.txt").read_text().splitlines()
    secrets = {
        line.split()[0]: line.split()[2]
        for line in credentials
        if not line.strip().startswith("admin")
    }
    assert set(secrets) == {c.client_id for c in seed.DEMO_CLIENTS}

    operator = _token(stack.gateway_url, "gonette-operator", secrets["gonette-operator"])
    api = httpx.Client(
        base_url=f"{stack.gateway_url}/api", headers={"Authorization": f"Bearer {operator}"}
    )
    assert api.get("/ledger/currencies/GONETTE").status_code == 200
    assert api.get("/ledger/currencies/CAIRN").status_code == 403  # another association's currency

    accompanist = _token(stack.gateway_url, "accompanist-isere", secrets["accompanist-isere"])
    apps = httpx.get(
        f"{stack.gateway_url}/api/funding/applications",
        headers={"Authorization": f"Bearer {accompanist}"},
    ).json()["items"]
    assert apps and all(a["commune_insee_code"].startswith("38") for a in apps)


def test_a_demo_client_revoked_by_an_administrator_stays_revoked_and_the_seed_goes_on(
    stack: Stack,
) -> None:
    with mock.patch.dict(os.environ, {"PROXIMA_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET}):
        seed.seed_demo_region(stack)
        admin = httpx.Client(
            base_url=stack.gateway_url,
            headers={"Authorization": f"Bearer {seed.admin_token(stack.gateway_url)}"},
            timeout=30,
        )
        revoked = admin.post(
            "/admin/clients/partner-app/revoke", json={"reason": "essai de révocation"}
        )
        assert revoked.status_code in (200, 204), revoked.text
        seed.seed_demo_region(stack)  # must not stop on 409 client-revoked

    credentials = Path(stack.run_dir / "demo-credentials.txt").read_text()
    assert "partner-app" in credentials and "révoqué" in credentials
    refused = httpx.post(
        f"{stack.gateway_url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "partner-app", "client_secret": "x"},
        timeout=30,
    )
    assert refused.status_code in (400, 401), refused.text


def _counts(stack: Stack) -> dict[str, int]:
    token = seed.admin_token(stack.gateway_url)
    api = seed.Api(stack.gateway_url, token)
    return {
        "currencies": len(api.get("/ledger/currencies", limit=100)["items"]),
        "gonette_tx": len(api.get("/ledger/transactions", currency="GONETTE", limit=500)["items"]),
        "applications": len(api.get("/funding/applications", limit=100)["items"]),
        "territories": len(api.get("/diagnostics/territories", limit=200)["items"]),
    }
