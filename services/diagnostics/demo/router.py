"""Loading the illustrative demo dataset, an administrator's act."""

from __future__ import annotations

from fastapi import APIRouter

from services.diagnostics.demo.schemas import DemoLoaded
from services.diagnostics.demo.service import load_demo_data
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Admin
from shared.service_app import DbSession

router = APIRouter(tags=["imports"])


@router.post("/admin/demo", response_model=DemoLoaded, responses=errors())
async def load_demo(session: DbSession, principal: Admin) -> DemoLoaded:
    """Load the illustrative Rhône-Alpes demo dataset (idempotent)."""
    return DemoLoaded(**await load_demo_data(session))
