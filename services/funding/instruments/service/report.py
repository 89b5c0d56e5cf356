"""The instruments' report per programme, territory, year of decision and kind, as the
partner networks report their activity (amounts, bank loans, leverage, repayments, losses,
jobs)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.instruments import repository, rules
from services.funding.instruments.models import FOLLOW_UP_YEARS
from services.funding.instruments.service.clock import today
from shared.auth import Principal


async def report(
    session: AsyncSession,
    principal: Principal | None,
    *,
    programme_code: str | None,
    territory: str | None,
    year: int | None,
) -> list[dict[str, Any]]:
    """Per programme, territory, decision year and kind: amounts, bank loans, leverage,
    repayments due and received, losses, fees, jobs and survival (today's position).

    Five queries whatever the number of loans: the rows, then every loan's current
    schedule, instalments, counted repayments and follow-ups at once; positions are the
    pure ``rules.position`` of each."""
    rows = await repository.report_rows(
        session, principal, programme_code=programme_code, territory=territory, year=year
    )
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


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The report as CSV with French headers (semicolons, as French spreadsheets expect)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _, title in REPORT_COLUMNS])
    for row in rows:
        writer.writerow(["" if row[k] is None else row[k] for k, _ in REPORT_COLUMNS])
    return buffer.getvalue()
