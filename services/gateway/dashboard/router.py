"""``GET /api/dashboard/summary`` and ``GET /dashboard``: the regional dashboard's figures,
and the page itself (static, no build step, no CDN) with its assets under ``/static``.

The page loads the summary, which says up to which stream position it is computed, then
opens the live stream (``stream/router.py``) from that position: nothing is missed and
nothing is counted twice.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from services.gateway.dashboard import service
from services.gateway.dashboard.schemas import DashboardSummary
from services.gateway.http.components import Engine
from services.gateway.http.scopes import Viewer
from shared.problems import Forbidden, Unauthorized, problem_responses

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static/dashboard"
# Everything the page needs comes from the gateway itself; nothing inline, nothing remote.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["live dashboard"], responses=problem_responses(Unauthorized, Forbidden))


@router.get("/api/dashboard/summary", response_model=DashboardSummary)
async def dashboard_summary(principal: Viewer, engine: Engine) -> DashboardSummary:
    """Current dashboard figures visible to the caller, and the stream position they reach."""
    return await service.summary(engine, principal)


@cache
def _page() -> str:
    return (STATIC_DIR / "dashboard.html").read_text(encoding="utf-8")


@router.get("/dashboard", include_in_schema=False, response_class=HTMLResponse)
async def dashboard() -> HTMLResponse:
    """The live regional dashboard (French)."""
    return HTMLResponse(_page(), headers=SECURITY_HEADERS)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
