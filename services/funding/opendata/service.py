"""Open data: awarded grants in the national SCDL "subventions" CSV format (v2.1).

One line per approved decision; amounts in euros with two decimals, dates ISO 8601, as the
schema published on schema.data.gouv.fr asks. The beneficiary's SIRET is not collected yet,
so ``idBeneficiaire`` (optional in the schema) stays empty. Text cells that a spreadsheet
would run as formulas (a title starting with ``=``) get a leading single quote
(`shared.csv_safety`); amounts are plain numbers and stay so.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.committees.models import Decision
from services.funding.opendata import repository
from services.funding.programmes.models import Programme
from services.funding.tranches import service as tranches
from services.funding.tranches.models import Tranche
from shared import csv_safety
from shared.auth import Principal

SCDL_COLUMNS = (
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
)


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


async def awarded_grants_csv(
    session: AsyncSession, principal: Principal, *, attribuant_siret: str
) -> str:
    """The awarded grants this client may see, as SCDL subventions CSV."""
    out = io.StringIO()
    writer = csv_safety.writer(out, lineterminator="\n")
    writer.writerow(SCDL_COLUMNS)
    for decision, application, _, programme in await repository.readable_approvals(
        session, principal
    ):
        schedule = await tranches.of_application(session, application.id)
        writer.writerow(_line(decision, application, programme, schedule, attribuant_siret))
    return out.getvalue()


def _line(
    decision: Decision,
    application: Application,
    programme: Programme,
    schedule: Sequence[Tranche],
    attribuant_siret: str,
) -> tuple[str, ...]:
    paid_on = sorted(
        t.settled_at.date().isoformat() for t in schedule if t.status == "paid" and t.settled_at
    )
    decided_on = decision.created_at.date().isoformat()
    period = f"{paid_on[0]}_{paid_on[-1]}" if len(paid_on) > 1 else (paid_on or [decided_on])[0]
    return (
        programme.operator,
        attribuant_siret,
        decided_on,
        decision.deliberation_number or "",
        application.applicant_name,
        "",
        "",
        application.title,
        _euros(decision.amount_cents or 0),
        "aide en numéraire",
        "échelonné" if len(schedule) > 1 else "unique",
        period,
        "",
        "non",
        "1",
        programme.name,
    )
