"""The instruments' report per programme, territory, year of decision and kind, as the
partner networks report their activity (amounts, bank loans, leverage, repayments, losses,
jobs)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypedDict, Unpack

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.funding.instruments import repository, rules
from services.funding.instruments.errors import InvalidReportCursorError
from services.funding.instruments.models import FOLLOW_UP_YEARS
from services.funding.instruments.service.clock import today
from shared.auth import Principal


class ReportFilters(TypedDict):
    """The report's filters, each None when not asked for."""

    programme_code: str | None
    territory: str | None
    year: int | None


async def report(
    session: AsyncSession, principal: Principal | None, **filters: Unpack[ReportFilters]
) -> list[dict[str, Any]]:
    """Every row of the report within the filters (the territory's figures event sums
    them; the API pages them with :func:`report_page`)."""
    return await _aggregate(session, await repository.report_rows(session, principal, **filters))


async def report_page(
    session: AsyncSession,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    **filters: Unpack[ReportFilters],
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the report's rows (whole groups, in key order) and the cursor of the
    next, None after the last: the page's groups first, then only their instruments."""
    after = None
    if cursor is not None:
        after = rules.report_key(cursor)
        if after is None:
            raise InvalidReportCursorError("cursor: pass the next_cursor of the previous page")
    groups = await repository.report_groups(
        session, principal, after=after, limit=limit + 1, **filters
    )
    following = rules.report_cursor(groups[limit - 1]) if len(groups) > limit else None
    groups = groups[:limit]
    if not groups:
        return [], None
    rows = await repository.report_rows(session, principal, groups=groups, **filters)
    return await _aggregate(session, rows), following


async def report_csv_chunks(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    **filters: Unpack[ReportFilters],
) -> AsyncIterator[str]:
    """The whole report as CSV, page after page (bounded memory whatever its size), in a
    session of its own: the request's is committed before the response streams. One
    repeatable-read transaction, so the pages are of one snapshot."""
    yield _csv_lines([title for _, title in REPORT_COLUMNS])
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        cursor = None
        while True:
            rows, cursor = await report_page(
                session, principal, cursor=cursor, limit=CSV_PAGE, **filters
            )
            if rows:
                yield "".join(_csv_lines(_csv_cells(row)) for row in rows)
            if cursor is None:
                return


CSV_PAGE = 200
"""Rows per page of the CSV export (the API's largest page)."""


async def _aggregate(session: AsyncSession, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Per programme, territory, decision year and kind: amounts, bank loans, leverage,
    repayments due and received, losses, fees, jobs and survival (today's position).

    Four queries whatever the number of loans, after the rows: every loan's current
    schedule, instalments, counted repayments and follow-ups at once; positions are the
    pure ``rules.position`` of each."""
    versions, instalments, received, follow_ups = await repository.report_details(
        session, [r[0].id for r in rows]
    )
    day = today()
    groups: dict[tuple[str, str, int, str], dict[str, Any]] = {}
    for row, code, area, decided, paid, jobs, called, recovered, written_off in rows:
        key = (code, area, int(decided), row.kind)
        group = groups.setdefault(key, _empty(code, area, int(decided), row.kind))
        group["instruments"] += 1
        group["amount_cents"] += row.amount_cents
        group["bank_loans_cents"] += row.bank_loan_cents or 0
        group["fees_cents"] += row.fee_cents or 0
        group["jobs_at_decision"] += row.jobs_declared or 0
        seen = sorted(follow_ups.get(row.id, []), key=lambda f: f.years)
        group["jobs"] += seen[-1].jobs if seen else int(jobs)
        for follow_up in seen:
            group["followed"][follow_up.years] += 1
            group["active"][follow_up.years] += int(follow_up.active)
        if rules.InstrumentKind(row.kind).is_loan:
            group["disbursed_cents"] += int(paid)
            version = versions[row.id]
            pos = rules.position(
                tuple(
                    rules.Instalment(i.number, i.due_on, i.principal_cents, i.interest_cents)
                    for i in instalments[row.id]
                ),
                base_repaid_cents=version.base_repaid_cents,
                repayments=received.get(row.id, []),
                as_of=day,
            )
            group["due_cents"] += pos.due_cents
            group["repaid_cents"] += pos.repaid_cents
            if written_off:
                group["losses_cents"] += pos.owed_cents
        else:
            group["losses_cents"] += int(called) - int(recovered)
    return [_figures(groups[key]) for key in sorted(groups)]


def _empty(code: str, area: str, year: int, kind: str) -> dict[str, Any]:
    return {
        "programme_code": code,
        "territory": area,
        "year": year,
        "kind": kind,
        **dict.fromkeys(("instruments", "amount_cents", "disbursed_cents", "bank_loans_cents"), 0),
        **dict.fromkeys(("due_cents", "repaid_cents", "losses_cents", "fees_cents"), 0),
        "jobs": 0,
        "jobs_at_decision": 0,
        "followed": dict.fromkeys(FOLLOW_UP_YEARS, 0),
        "active": dict.fromkeys(FOLLOW_UP_YEARS, 0),
    }


def _figures(group: dict[str, Any]) -> dict[str, Any]:
    public = group["amount_cents"] if group["kind"] == "guarantee" else group["disbursed_cents"]
    hidden = ("jobs", "followed", "active")
    return {
        **{k: v for k, v in group.items() if k not in hidden},
        "jobs_declared": group["jobs"],
        "leverage": rules.leverage(group["bank_loans_cents"], public),
        "repayment_rate": rules.repayment_rate(group["repaid_cents"], group["due_cents"]),
        **{
            f"survival_{years}y": rules.survival(group["active"][years], group["followed"][years])
            for years in FOLLOW_UP_YEARS
        },
    }


REPORT_COLUMNS = (
    ("programme_code", "Programme"),
    ("territory", "Territoire"),
    ("year", "Année"),
    ("kind", "Instrument"),
    ("instruments", "Nombre"),
    ("amount_cents", "Montant accordé (centimes)"),
    ("disbursed_cents", "Montant décaissé (centimes)"),
    ("bank_loans_cents", "Prêts bancaires associés (centimes)"),
    ("leverage", "Effet de levier"),
    ("due_cents", "Échu (centimes)"),
    ("repaid_cents", "Remboursé (centimes)"),
    ("repayment_rate", "Taux de remboursement"),
    ("losses_cents", "Pertes (centimes)"),
    ("jobs_declared", "Emplois déclarés"),
    ("jobs_at_decision", "Emplois déclarés à la décision"),
    ("fees_cents", "Commissions de garantie (centimes)"),
    ("survival_1y", "Pérennité à 1 an"),
    ("survival_3y", "Pérennité à 3 ans"),
    ("survival_5y", "Pérennité à 5 ans"),
)


def _csv_cells(row: dict[str, Any]) -> list[Any]:
    return ["" if row[k] is None else row[k] for k, _ in REPORT_COLUMNS]


def _csv_lines(cells: list[Any]) -> str:
    """One CSV line, French style (semicolons, as French spreadsheets expect)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()
