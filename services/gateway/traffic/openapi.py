"""One OpenAPI document for the whole platform: the gateway's own endpoints plus every
service's, under ``/api/<service>``, fetched from the services and cached.

A service that cannot be reached does not break the document: its last good copy is used
if there is one, and the document's description says which services are missing or
stale. Component names that clash between services get the service's name as prefix;
identical ones (``Problem``, validation errors) are shared.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from services.gateway.traffic.upstream_http import UpstreamTransportError
from services.gateway.traffic.upstreams import UpstreamPool
from shared.api_docs import swagger_page

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Per-process endpoints of each service: reach them on the service, not through the gateway.
NOT_ROUTED = frozenset({"/healthz", "/readyz", "/metrics"})
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
GATEWAY_ERRORS = {
    "401": "Missing, invalid, expired or revoked token (checked by the gateway)",
    "413": "Request body too large",
    "429": "Rate limit exceeded; see Retry-After",
    "503": "The service is unreachable, restarting or its circuit is open; see Retry-After",
    "504": "The service did not answer in time",
}


@dataclass
class Fetched:
    document: dict[str, Any] | None
    fetched_at: float
    error: str | None = None


def merge(
    gateway: Mapping[str, Any],
    services: Mapping[str, dict[str, Any]],
    missing: Mapping[str, str],
) -> dict[str, Any]:
    """Pure: the gateway document with each service's paths and components merged in."""
    merged = copy.deepcopy(dict(gateway))
    paths = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    tags = {t["name"]: t for t in merged.get("tags", [])}
    for name, document in sorted(services.items()):
        document = _rename_components(name, document, components)
        for section, entries in document.get("components", {}).items():
            components.setdefault(section, {}).update(entries)
        for path, item in document.get("paths", {}).items():
            if path in NOT_ROUTED:
                continue
            paths[f"/api/{name}{path}"] = _prefixed_item(name, item)
        for tag in document.get("tags", []):
            tags.setdefault(f"{name}: {tag['name']}", {**tag, "name": f"{name}: {tag['name']}"})
    if tags:
        merged["tags"] = list(tags.values())
    merged["info"] = {**merged.get("info", {}), "description": _description(services, missing)}
    return merged


def _rename_components(
    service: str, document: dict[str, Any], existing: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    new_names: dict[tuple[str, str], str] = {}
    for section, entries in document.get("components", {}).items():
        for key, value in entries.items():
            if key in existing.get(section, {}) and existing[section][key] != value:
                new_names[(section, key)] = f"{service.capitalize()}{key}"
    if not new_names:
        return document
    refs = {
        f"#/components/{section}/{old}": f"#/components/{section}/{new}"
        for (section, old), new in new_names.items()
    }
    document = _rewrite_refs(document, refs)
    for section, entries in list(document.get("components", {}).items()):
        document["components"][section] = {
            new_names.get((section, key), key): value for key, value in entries.items()
        }
    return document


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                renames.get(value, value)
                if key == "$ref" and isinstance(value, str)
                else _rewrite_refs(value, renames)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _prefixed_item(service: str, item: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(item)
    for method in HTTP_METHODS:
        if method not in out:
            continue
        operation = dict(out[method])
        if "operationId" in operation:
            operation["operationId"] = f"{service}_{operation['operationId']}"
        operation["tags"] = [f"{service}: {t}" for t in operation.get("tags", [])] or [service]
        responses = dict(operation.get("responses", {}))
        for status, description in GATEWAY_ERRORS.items():
            if status == "413" and "requestBody" not in operation:
                continue
            responses.setdefault(
                status,
                {
                    "description": description,
                    "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                },
            )
        operation["responses"] = responses
        out[method] = operation
    return out


def _description(services: Mapping[str, Any], missing: Mapping[str, str]) -> str:
    lines = [
        "One entry point for Proxima: the gateway's own endpoints (tokens, clients, the live"
        " dashboard) and every service's API under `/api/<service>`. Every `/api/` call"
        " needs a bearer token from `POST /oauth/token`, except the public reads (`GET`) of"
        " `/api/ledger/public/…` and `/api/diagnostics/public/…` (see `traffic.public_routes`).",
        "",
        "Services in this document: " + (", ".join(sorted(services)) or "none") + ".",
    ]
    for name, reason in sorted(missing.items()):
        lines.append(f"- **{name}**: {reason}")
    return "\n".join(lines)


class MergedOpenAPI:
    def __init__(self, app: FastAPI, pool: UpstreamPool, *, ttl_s: float) -> None:
        self.app = app
        self.pool = pool
        self.ttl_s = ttl_s
        self._fetched: dict[str, Fetched] = {}
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        async with self._lock:
            now = time.monotonic()
            stale = [
                name
                for name in self.pool.upstreams
                if name not in self._fetched or now - self._fetched[name].fetched_at > self.ttl_s
            ]
            if stale:
                results = await asyncio.gather(*(self._fetch(name) for name in stale))
                for name, fetched in zip(stale, results, strict=True):
                    previous = self._fetched.get(name)
                    if fetched.document is None and previous and previous.document is not None:
                        fetched.document = previous.document
                        fetched.error = f"unreachable ({fetched.error}); showing an older copy"
                    self._fetched[name] = fetched
        services = {n: f.document for n, f in self._fetched.items() if f.document is not None}
        missing = {n: f.error for n, f in self._fetched.items() if f.error}
        return merge(self.app.openapi(), services, missing)

    async def _fetch(self, name: str) -> Fetched:
        upstream = self.pool.upstreams[name]
        try:
            async with asyncio.timeout(10):
                response = await upstream.http.send("GET", "/openapi.json", [], b"")
                try:
                    if response.status_code != 200:
                        raise ValueError(f"answered {response.status_code}")
                    document = json.loads(await response.read())
                finally:
                    await response.aclose()
            if not isinstance(document, dict) or "paths" not in document:
                raise ValueError("not an OpenAPI document")
            return Fetched(document, time.monotonic())
        except (UpstreamTransportError, TimeoutError, ValueError) as exc:
            reason = f"unavailable: {type(exc).__name__}"
            # Retry soon rather than after a full TTL: the service may just be starting.
            return Fetched(None, time.monotonic() - self.ttl_s + 5, reason)


async def openapi_endpoint(request: Request) -> JSONResponse:
    merged: MergedOpenAPI = request.app.state.merged_openapi
    return JSONResponse(await merged.document())


async def docs_endpoint(request: Request) -> HTMLResponse:
    return swagger_page(openapi_url="/openapi.json", title="Proxima API")
