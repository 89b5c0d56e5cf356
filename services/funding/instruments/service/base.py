"""Instruments as recorded with the committee's decision: terms, first schedule, reads.

A loan is disbursed like a grant's tranche (one tranche for the principal, paid in euros or
through the ledger by the existing payment saga); repayments are euros recorded through this
API or, in a local currency, direct debits the ledger posts and answers (``orders``), and
are matched to the current schedule version in order. A guarantee is not disbursed: it is
called once on the bank's default, paying up to its cap (in euros, or through the ledger),
and recoveries are recorded.
Every write takes the instrument's row lock, so two repayments cannot both pass the balance.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.applications.service import base as applications
from services.funding.db.repository import Paging, add
from services.funding.instruments import events, repository, rules
from services.funding.instruments.errors import (
    InstrumentKindError,
    InvalidTermsError,
)
from services.funding.instruments.models import (
    InstalmentRow,
    Instrument,
    ScheduleVersion,
)
from services.funding.instruments.service import figures
from services.funding.instruments.service.clock import today
from services.funding.programmes import service as programmes
from shared.auth import Principal

FIRST_VERSION_REASON = "Échéancier initial, calculé à la décision"


def loan_terms(row: Instrument) -> rules.LoanTerms:
    assert row.start_on is not None and row.instalments is not None and row.frequency
    return rules.LoanTerms(
        principal_cents=row.amount_cents,
        start_on=row.start_on,
        instalments=row.instalments,
        frequency=rules.Frequency(row.frequency),
        deferral_months=row.deferral_months or 0,
        annual_rate_bp=row.annual_rate_bp or 0,
    )


def guarantee_terms(row: Instrument) -> rules.GuaranteeTerms:
    assert row.bank_loan_cents is not None and row.covered_share_percent is not None
    return rules.GuaranteeTerms(
        bank_loan_cents=row.bank_loan_cents,
        covered_share_percent=row.covered_share_percent,
        cap_cents=row.amount_cents,
        fee_bp=row.fee_bp or 0,
        term_months=row.term_months or 1,
    )


def check_terms(terms: Any, amount_cents: int) -> None:
    """Refuse terms that do not hold together, before anything is written."""
    row = _row(terms, amount_cents, uuid.uuid4(), uuid.uuid4())
    if row.kind == rules.InstrumentKind.GUARANTEE:
        guarantee_terms(row)
        return
    if row.kind != rules.InstrumentKind.PARTICIPATORY_LOAN and row.annual_rate_bp:
        raise InvalidTermsError(f"a {row.kind} carries no interest", kind=row.kind)
    loan_terms(row)


def _row(terms: Any, amount_cents: int, application_id: uuid.UUID, decision_id: Any) -> Instrument:
    fields = terms.model_dump()
    return Instrument(
        application_id=application_id, decision_id=decision_id, amount_cents=amount_cents, **fields
    )


async def store_version(
    session: AsyncSession,
    instrument: Instrument,
    *,
    version: int,
    reason: str,
    base_repaid_cents: int,
    actor: str,
    instalments: Sequence[rules.Instalment],
) -> ScheduleVersion:
    schedule = ScheduleVersion(
        instrument_id=instrument.id,
        version=version,
        reason=reason,
        base_repaid_cents=base_repaid_cents,
        created_by=actor,
    )
    await add(session, schedule)
    await add(
        session,
        *(
            InstalmentRow(
                schedule_id=schedule.id,
                number=i.number,
                due_on=i.due_on,
                principal_cents=i.principal_cents,
                interest_cents=i.interest_cents,
            )
            for i in instalments
        ),
    )
    return schedule


async def record_at_decision(
    session: AsyncSession,
    principal: Principal,
    *,
    terms: Any,
    application: Application,
    programme_code: str,
    decision_id: uuid.UUID,
    amount_cents: int,
) -> Instrument:
    """Store the instrument the decision awarded and, for a loan, its first schedule."""
    check_terms(terms, amount_cents)
    row = _row(terms, amount_cents, application.id, decision_id)
    if row.kind == rules.InstrumentKind.GUARANTEE:
        row.fee_cents = guarantee_terms(row).fee_cents  # recorded, never recomputed
    await add(session, row)
    if rules.InstrumentKind(row.kind).is_loan:
        schedule = rules.build_schedule(loan_terms(row))
        await store_version(
            session,
            row,
            version=1,
            reason=FIRST_VERSION_REASON,
            base_repaid_cents=0,
            actor=principal.client_id,
            instalments=schedule,
        )
        await programmes.record_returns(
            session,
            envelope_id=application.envelope_id,
            expected_cents=sum(i.principal_cents + i.interest_cents for i in schedule),
        )
    await events.awarded_event(session, row=row, application=application, code=programme_code)
    await figures.announce(session, application.territory)
    return row


async def load(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, *, lock: bool = False
) -> tuple[Instrument, Application, str]:
    """The instrument, after the tenancy check of its file; ``lock`` takes its row lock."""
    row = await repository.instrument(session, instrument_id, lock=lock)
    application, _, programme = await applications.load(session, principal, row.application_id)
    return row, application, programme.code


def require_loan(row: Instrument) -> None:
    if not rules.InstrumentKind(row.kind).is_loan:
        raise InstrumentKindError("a guarantee is not repaid; it is called", kind=row.kind)


def require_guarantee(row: Instrument) -> None:
    if rules.InstrumentKind(row.kind).is_loan:
        raise InstrumentKindError("only a guarantee is called", kind=row.kind)


async def current(
    session: AsyncSession, row: Instrument, as_of: date
) -> tuple[ScheduleVersion, Sequence[InstalmentRow], rules.Position]:
    version = (await repository.versions(session, row.id))[-1]
    stored = await repository.instalments(session, version.id)
    received = [
        (r.received_on, r.amount_cents) for r in await repository.repayments(session, row.id)
    ]
    pos = rules.position(
        tuple(
            rules.Instalment(i.number, i.due_on, i.principal_cents, i.interest_cents)
            for i in stored
        ),
        base_repaid_cents=version.base_repaid_cents,
        repayments=received,
        as_of=as_of,
    )
    return version, stored, pos


async def state_of(session: AsyncSession, row: Instrument, application: Application) -> str:
    """The instrument's state today."""
    if not rules.InstrumentKind(row.kind).is_loan:
        call = await repository.call_of(session, row.id)
        called = call is not None and call.status == "paid"  # not while the ledger pays it
        return (rules.GuaranteeState.CALLED if called else rules.GuaranteeState.ACTIVE).value
    _, _, pos = await current(session, row, today())
    return rules.loan_state(
        application.paid_cents > 0, pos, written_off=await written_off(session, row)
    ).value


async def written_off(session: AsyncSession, row: Instrument) -> bool:
    """Whether two officers agreed to write this loan off."""
    found = await repository.write_off_of(session, row.id)
    return found is not None and found.approved_by is not None


async def _read(session: AsyncSession, row: Instrument, application: Application) -> dict[str, Any]:
    fields = {c.key: getattr(row, c.key) for c in Instrument.__table__.columns}
    return {**fields, "state": await state_of(session, row, application)}


async def read(session: AsyncSession, principal: Principal, instrument_id: uuid.UUID) -> Any:
    row, application, _ = await load(session, principal, instrument_id)
    return await _read(session, row, application)


async def of_application(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> dict[str, Any]:
    """The instrument a file was awarded (404 for a grant)."""
    application, _, _ = await applications.load(session, principal, application_id)
    row = await repository.of_application(session, application.id)
    if row is None:
        raise InstrumentKindError("this file was awarded a grant, not an instrument")
    return await _read(session, row, application)


async def readable(
    session: AsyncSession, principal: Principal, programme_code: str | None, paging: Paging
) -> tuple[list[dict[str, Any]], str | None]:
    rows, cursor = await repository.readable_page(session, principal, programme_code, paging)
    out = []
    for row in rows:
        application, _, _ = await applications.load(session, principal, row.application_id)
        out.append(await _read(session, row, application))
    return out, cursor
