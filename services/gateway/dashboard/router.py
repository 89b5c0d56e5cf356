"""``GET /dashboard``: the regional dashboard, a static page (no build step, no CDN)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
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

router = APIRouter()


@cache
def _page() -> str:
    return (STATIC_DIR / "dashboard.html").read_text(encoding="utf-8")


@router.get("/dashboard", include_in_schema=False, response_class=HTMLResponse)
async def dashboard() -> HTMLResponse:
    """The live regional dashboard (French)."""
    return HTMLResponse(_page(), headers=SECURITY_HEADERS)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
