"""Use cases of the regional dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.dashboard.rules import summarize
from services.gateway.dashboard.schemas import DashboardSummary
from services.gateway.stream import service as stream_service
from services.gateway.stream.rules import TenantFilter
from shared.auth import Principal


async def summary(engine: AsyncEngine, principal: Principal) -> DashboardSummary:
    """The figures the principal may see, and the stream position they reach."""
    latest, rows = await stream_service.dashboard_snapshot(engine, TenantFilter.of(principal))
    return DashboardSummary(as_of=latest, generated_at=datetime.now(UTC), **summarize(rows))
