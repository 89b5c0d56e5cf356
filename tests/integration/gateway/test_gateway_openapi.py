"""``/openapi.json``: one document for the gateway and every service behind it."""

from __future__ import annotations

from collections import Counter

import jsonschema
from schemathesis.specs.openapi.definitions import OPENAPI_31

from services.gateway.app import create_app
from tests.integration.gateway.conftest import MakeSettings, running, serve
from tests.integration.gateway.upstream_app import echo_app
from tests.support.ports import free_port

DOWN = "http://127.0.0.1:9"


def _operation_ids(document: dict) -> list[str]:
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]


async def test_the_merged_document_has_every_service_under_its_prefix(
    make_settings: MakeSettings,
):
    with serve(echo_app()) as upstream:
        app = create_app(
            make_settings(ledger_url=upstream, funding_url=upstream, diagnostics_url=DOWN)
        )
        async with running(app) as client:
            response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    assert "/oauth/token" in paths and "/admin/clients" in paths and "/api/stream" in paths
    assert "post" in paths["/api/ledger/items"] and "post" in paths["/api/funding/items"]
    assert "/api/ledger/healthz" not in paths and "/api/ledger/openapi.json" not in paths
    item = paths["/api/ledger/items"]["post"]
    assert item["tags"] == ["ledger"]
    assert {"401", "429", "503", "504", "413"} <= set(item["responses"])
    assert item["requestBody"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/Item"
    )
    assert "Item" in document["components"]["schemas"]
    ids = Counter(_operation_ids(document))
    assert ids["ledger_create_item_items_post"] == ids["funding_create_item_items_post"] == 1
    gateway_ids = [i for i in ids if not i.startswith(("ledger_", "funding_"))]
    assert all(ids[i] == 1 for i in gateway_ids)
    jsonschema.Draft202012Validator(OPENAPI_31).validate(document)


async def test_a_service_that_is_down_is_reported_not_a_500(make_settings: MakeSettings):
    app = create_app(make_settings(ledger_url=DOWN, funding_url=DOWN, diagnostics_url=DOWN))
    async with running(app) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    description = response.json()["info"]["description"]
    for name in ("ledger", "funding", "diagnostics"):
        assert f"**{name}**: unavailable" in description
    assert "/oauth/token" in response.json()["paths"]


async def test_the_last_good_copy_is_served_when_a_service_goes_down(
    make_settings: MakeSettings,
):
    port = free_port()
    app = create_app(
        make_settings(
            ledger_url=f"http://127.0.0.1:{port}",
            funding_url=DOWN,
            diagnostics_url=DOWN,
            openapi_cache_ttl_s=0,
        )
    )
    async with running(app) as client:
        with serve(echo_app(), port=port):
            assert "/api/ledger/items" in (await client.get("/openapi.json")).json()["paths"]
        document = (await client.get("/openapi.json")).json()
    assert "/api/ledger/items" in document["paths"]
    assert "older copy" in document["info"]["description"]


async def test_docs_serves_swagger_ui_on_the_merged_document(make_settings: MakeSettings):
    app = create_app(make_settings())
    async with running(app) as client:
        response = await client.get("/docs")
        script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert "/openapi.json" in response.text
    # Served by the gateway itself: the page works on a network without the public CDN.
    assert "cdn" not in response.text
    assert "/docs/assets/swagger-ui-bundle.js" in response.text
    assert script.status_code == 200
    assert len(script.content) > 100_000
