"""Merging the services' OpenAPI documents into the gateway's."""

from services.gateway.traffic.openapi import merge

PROBLEM = {"type": "object", "properties": {"code": {"type": "string"}}}


def _service(schema_name: str, schema: dict) -> dict:
    return {
        "openapi": "3.1.0",
        "paths": {
            "/accounts": {
                "get": {
                    "operationId": "list_accounts",
                    "tags": ["accounts"],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{schema_name}"}
                                }
                            },
                        }
                    },
                }
            },
            "/healthz": {"get": {"operationId": "healthz", "responses": {}}},
        },
        "components": {"schemas": {schema_name: schema, "Problem": PROBLEM}},
    }


GATEWAY = {
    "openapi": "3.1.0",
    "info": {"title": "gw", "version": "1"},
    "paths": {"/oauth/token": {}},
    "components": {"schemas": {"Problem": PROBLEM}},
}


def test_paths_are_prefixed_and_operational_ones_left_out():
    merged = merge(GATEWAY, {"ledger": _service("Page", {"type": "object"})}, {})
    assert set(merged["paths"]) == {"/oauth/token", "/api/ledger/accounts"}
    operation = merged["paths"]["/api/ledger/accounts"]["get"]
    assert operation["operationId"] == "ledger_list_accounts"
    assert operation["tags"] == ["ledger: accounts"]


def test_clashing_component_names_are_prefixed_and_refs_follow():
    merged = merge(
        GATEWAY,
        {
            "ledger": _service("Page", {"type": "object", "title": "ledger page"}),
            "funding": _service("Page", {"type": "object", "title": "funding page"}),
        },
        {},
    )
    schemas = merged["components"]["schemas"]
    assert schemas["Page"]["title"] == "funding page"  # first merged (sorted) keeps the name
    assert schemas["LedgerPage"]["title"] == "ledger page"
    ref = merged["paths"]["/api/ledger/accounts"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    assert ref == "#/components/schemas/LedgerPage"


def test_identical_components_are_shared():
    merged = merge(GATEWAY, {"ledger": _service("Page", {"type": "object"})}, {})
    assert "LedgerProblem" not in merged["components"]["schemas"]


def test_missing_services_are_named_in_the_description():
    merged = merge(GATEWAY, {}, {"funding": "unavailable: ConnectError"})
    assert "**funding**: unavailable: ConnectError" in merged["info"]["description"]


def test_gateway_errors_are_documented_on_every_routed_operation():
    merged = merge(GATEWAY, {"ledger": _service("Page", {"type": "object"})}, {})
    responses = merged["paths"]["/api/ledger/accounts"]["get"]["responses"]
    assert {"401", "429", "503", "504"} <= set(responses)
    assert "413" not in responses  # no request body, no size limit to hit
