"""Figures per programme and per envelope: committed, paid, remaining, files by state and
territory. A client bound to some territories only sees the figures of those territories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.service import access
from services.funding.store.models import Application, Envelope, Programme, ProgressReport
from shared.auth import Principal


def _envelope_figures(envelope: Envelope) -> dict[str, Any]:
    return {
        "envelope_id": envelope.id,
        "code": envelope.code,
        "year": envelope.year,
        "ap_cents": envelope.ap_cents,
        "cp_cents": envelope.cp_cents,
        "committed_cents": envelope.committed_cents,
        "ordered_cents": envelope.ordered_cents,
        "paid_cents": envelope.paid_cents,
        "remaining_ap_cents": envelope.ap_cents - envelope.committed_cents,
        "remaining_cp_cents": envelope.cp_cents - envelope.paid_cents - envelope.ordered_cents,
        "unpaid_commitments_cents": envelope.committed_cents - envelope.paid_cents,
    }


async def report(
    session: AsyncSession,
    principal: Principal,
    programme: Programme,
    envelopes: list[Envelope],
) -> dict[str, Any]:
    """The report over ``envelopes`` (all of a programme's, or one) as this client sees it."""
    visible = [e for e in envelopes if access.may_use_envelope(principal, e, programme)]
    ids = [e.id for e in visible]
    filters: list[Any] = [Application.envelope_id.in_(ids)]
    territories = principal.visible("territories")
    if territories is not None:
        filters.append(
            or_(
                Application.territory.in_(territories),
                Application.commune_insee_code.in_(territories),
            )
        )
    by_state = {
        state: int(count)
        for state, count in (
            await session.execute(
                select(Application.state, func.count()).where(*filters).group_by(Application.state)
            )
        ).all()
    }
    granted = func.coalesce(Application.granted_amount_cents, 0)
    territory_rows = (
        await session.execute(
            select(
                Application.territory,
                func.count(),
                func.sum(Application.requested_amount_cents),
                func.sum(granted),
                func.sum(Application.paid_cents),
            )
            .where(*filters)
            .group_by(Application.territory)
            .order_by(Application.territory)
        )
    ).all()
    figures = [_envelope_figures(e) for e in visible]
    return {
        "programme_code": programme.code,
        "indicators": await _indicators(session, filters),
        "envelopes": figures,
        "committed_cents": sum(f["committed_cents"] for f in figures),
        "paid_cents": sum(f["paid_cents"] for f in figures),
        "remaining_ap_cents": sum(f["remaining_ap_cents"] for f in figures),
        "applications_by_state": dict(sorted(by_state.items())),
        "by_territory": [
            {
                "territory": territory,
                "applications": int(count),
                "requested_cents": int(requested or 0),
                "granted_cents": int(granted_sum or 0),
                "paid_cents": int(paid or 0),
            }
            for territory, count, requested, granted_sum, paid in territory_rows
        ],
    }


async def _indicators(session: AsyncSession, filters: list[Any]) -> dict[str, int]:
    """Sums over the latest accepted report (final first, then the last intermediate)."""
    latest = (
        select(
            ProgressReport.jobs_created,
            ProgressReport.members,
            ProgressReport.turnover_cents,
        )
        .join(Application, Application.id == ProgressReport.application_id)
        .where(ProgressReport.status == "accepted", *filters)
        .ext(distinct_on(ProgressReport.application_id))
        .order_by(
            ProgressReport.application_id,
            (ProgressReport.kind == "final").desc(),
            ProgressReport.number.desc(),
        )
        .subquery()
    )
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(latest.c.jobs_created), 0),
                func.coalesce(func.sum(latest.c.members), 0),
                func.coalesce(func.sum(latest.c.turnover_cents), 0),
            ).select_from(latest)
        )
    ).one()
    return {
        "projects_reporting": int(row[0]),
        "jobs_created": int(row[1]),
        "members": int(row[2]),
        "turnover_cents": int(row[3]),
    }
