"""The instruments' report per programme, territory, year of decision and kind, as the
partner networks report their activity (amounts, bank loans, leverage, repayments, losses,
jobs)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.instruments import repository, rules
from services.funding.instruments.service.base import current, today
from shared.auth import Principal


async def report(
    session: AsyncSession,
    principal: Principal,
    *,
    programme_code: str | None,
    territory: str | None,
    year: int | None,
) -> list[dict[str, Any]]:
    """Per programme, territory, decision year and kind: amounts, bank loans, leverage,
    repayments due and received, losses and jobs declared (today's position)."""
    rows = await repository.report_rows(
        session, principal, programme_code=programme_code, territory=territory, year=year
    )
    groups: dict[tuple[str, str, int, str], dict[str, Any]] = {}
    for row, code, area, decided, paid, jobs, called, recovered, written_off in rows:
        key = (code, area, int(decided), row.kind)
        group = groups.setdefault(
            key,
            {
                "programme_code": code,
                "territory": area,
                "year": int(decided),
                "kind": row.kind,
                **dict.fromkeys(
                    ("instruments", "amount_cents", "disbursed_cents", "bank_loans_cents"), 0
                ),
                **dict.fromkeys(("due_cents", "repaid_cents", "losses_cents", "jobs"), 0),
            },
        )
        group["instruments"] += 1
        group["amount_cents"] += row.amount_cents
        group["jobs"] += int(jobs)
        group["bank_loans_cents"] += row.bank_loan_cents or 0
        if rules.InstrumentKind(row.kind).is_loan:
            group["disbursed_cents"] += int(paid)
            _, _, pos = await current(session, row, today())
            group["due_cents"] += pos.due_cents
            group["repaid_cents"] += pos.repaid_cents
            if written_off:
                group["losses_cents"] += pos.owed_cents
        else:
            group["losses_cents"] += int(called) - int(recovered)
    out = []
    for key in sorted(groups):
        g = groups[key]
        public = g["amount_cents"] if g["kind"] == "guarantee" else g["disbursed_cents"]
        out.append(
            {
                **{k: v for k, v in g.items() if k != "jobs"},
                "jobs_declared": g["jobs"],
                "leverage": rules.leverage(g["bank_loans_cents"], public),
                "repayment_rate": rules.repayment_rate(g["repaid_cents"], g["due_cents"]),
            }
        )
    return out


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
)


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The report as CSV with French headers (semicolons, as French spreadsheets expect)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _, title in REPORT_COLUMNS])
    for row in rows:
        writer.writerow(["" if row[k] is None else row[k] for k, _ in REPORT_COLUMNS])
    return buffer.getvalue()
