"""Swagger UI served from the process itself, never from a CDN.

Why: FastAPI's default ``/docs`` page loads Swagger UI's script and stylesheet from a public
CDN, so an operator on a closed network (a regional council's intranet, an air-gapped
staging cluster) sees a blank page. The assets come from the pinned ``fastapi-offline``
wheel, which ships a current Swagger UI bundle (OpenAPI 3.1 capable) as package data.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs/assets"
_ASSETS_DIR = str(files("fastapi_offline") / "static")


def swagger_page(*, openapi_url: str, title: str) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
    )


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS_PATH, StaticFiles(directory=_ASSETS_DIR), name="api-docs-assets")


def install_offline_docs(app: FastAPI, *, title: str) -> None:
    """``/docs`` for an app created with ``docs_url=None``."""
    mount_assets(app)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return swagger_page(openapi_url=f"{root}/openapi.json", title=title)
