"""Payment schedules and the payment saga: order a tranche, record the payer's answer.

Money moves on the envelope under its row lock: an order reserves its amount
(``ordered_cents``, counted against both the commitment and the payment credits), a
confirmation turns the reservation into ``paid_cents``, a failure gives it back. An answer
that arrives twice finds the tranche already settled and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.domain import budget
from services.funding.domain import tranches as rules
from services.funding.domain.errors import TrancheNotPayableError, TrancheStatusError
from services.funding.service import access
from services.funding.service.events import (
    payment_ordered_event,
    payment_outcome_event,
    tranche_payable_event,
)
from services.funding.store import repository
from services.funding.store.models import (
    Application,
    Envelope,
    Programme,
    ProgressReport,
    Tranche,
)
from shared.auth import Principal
from shared.ids import uuid7

_PAYING_STATES = frozenset({"in_payment", "final_report_received"})


async def progress_of(session: AsyncSession, application: Application) -> rules.Progress:
    """The facts of the file that release tranches."""
    accepted = await session.scalar(
        select(func.count())
        .select_from(ProgressReport)
        .where(
            ProgressReport.application_id == application.id,
            ProgressReport.kind == "intermediate",
            ProgressReport.status == "accepted",
        )
    )
    return rules.Progress(
        decision_notified=application.granted_amount_cents is not None,
        convention_signed=application.convention_reference is not None,
        intermediate_reports_accepted=int(accepted or 0),
        final_report_accepted=application.state in {"final_report_received", "closed"},
    )


def schedule_of(application: Application, rows: list[Tranche], threshold: int) -> rules.Schedule:
    """The domain schedule rebuilt from the stored tranches."""
    granted = application.granted_amount_cents or sum(r.amount_cents for r in rows)
    return rules.Schedule(
        granted_amount_cents=granted,
        convention_required=rules.convention_required(granted, threshold_cents=threshold),
        tranches=tuple(
            rules.Tranche(
                number=r.number,
                kind=rules.TrancheKind(r.kind),
                amount_cents=r.amount_cents,
                payable_when=rules.PayableWhen(r.payable_when),
                report_number=r.report_number,
                status=rules.TrancheStatus(r.status),
            )
            for r in rows
        ),
    )


async def create_schedule(
    session: AsyncSession, application: Application, programme: Programme
) -> None:
    """Split the granted amount into tranches (advance per the programme, then balance)."""
    assert application.granted_amount_cents is not None
    schedule = rules.build_schedule(
        application.granted_amount_cents,
        advance_percent=programme.advance_percent,
        intermediate_percents=tuple(programme.intermediate_percents),
        convention_threshold_cents=programme.convention_threshold_cents,
    )
    for t in schedule.tranches:
        session.add(
            Tranche(
                application_id=application.id,
                number=t.number,
                kind=t.kind.value,
                amount_cents=t.amount_cents,
                payable_when=t.payable_when.value,
                report_number=t.report_number,
                status=t.status.value,
            )
        )
    await session.flush()


async def announce_payable(
    session: AsyncSession, application: Application, programme: Programme
) -> None:
    """Flag (once) and announce every tranche whose condition is now met."""
    rows = await repository.tranches_of(session, application.id)
    if not rows or application.state not in _PAYING_STATES | {"approved", "convention_signed"}:
        return
    schedule = schedule_of(application, rows, programme.convention_threshold_cents)
    progress = await progress_of(session, application)
    for row in rows:
        if row.payable_since is not None or row.status != "scheduled":
            continue
        if rules.payability(schedule, row.number, progress).payable:
            row.payable_since = datetime.now(UTC)
            await tranche_payable_event(
                session, tranche=row, application=application, programme=programme
            )
    await session.flush()


def _budget_values(
    envelope: Envelope, application: Application, rows: list[Tranche]
) -> tuple[budget.Envelope, budget.Commitment]:
    in_flight = sum(r.amount_cents for r in rows if r.status == "ordered")
    return (
        budget.Envelope(
            ap_cents=envelope.ap_cents,
            cp_cents=envelope.cp_cents,
            committed_cents=envelope.committed_cents,
            paid_cents=envelope.paid_cents + envelope.ordered_cents,
        ),
        budget.Commitment(
            amount_cents=application.granted_amount_cents or 0,
            paid_cents=application.paid_cents + in_flight,
        ),
    )


async def order(
    session: AsyncSession,
    principal: Principal,
    tranche_id: uuid.UUID,
    *,
    mode: rules.PaymentMode,
    currency_code: str | None,
    beneficiary_account_id: str | None,
    funding_account_id: str | None,
) -> Tranche:
    """Order the payment of a payable tranche, reserving its amount on the envelope.

    Through the ledger, the account ids are optional hints: the ledger pays the account the
    beneficiary linked to the application and debits an account mandated to the programme,
    refusing an order that names other accounts; its answer carries the accounts it used.
    """
    found = await repository.get(session, Tranche, tranche_id)
    application = await repository.get(session, Application, found.application_id, lock=True)
    envelope = await repository.get(session, Envelope, application.envelope_id)
    programme = await repository.get(session, Programme, application.programme_id)
    access.ensure_application(principal, application, envelope, programme)
    rows = await repository.tranches_of(session, application.id, lock=True)
    tranche = next(r for r in rows if r.id == tranche_id)
    if application.state not in _PAYING_STATES:
        raise TrancheNotPayableError(
            number=tranche.number, reasons=[f"the application is {application.state}"]
        )
    schedule = schedule_of(application, rows, programme.convention_threshold_cents)
    _, payment = rules.order_payment(
        schedule,
        tranche.number,
        progress=await progress_of(session, application),
        mode=mode,
        currency_code=currency_code,
    )
    locked = await repository.get(session, Envelope, envelope.id, lock=True)
    current, commitment = _budget_values(locked, application, rows)
    budget.pay(current, commitment, payment.amount_cents)  # refuses beyond commitment or CP
    locked.ordered_cents += payment.amount_cents
    tranche.status = "ordered"
    tranche.order_id = uuid7()
    tranche.payment_mode = mode.value
    tranche.currency_code = payment.currency_code
    tranche.beneficiary_account_id = beneficiary_account_id
    tranche.funding_account_id = funding_account_id
    tranche.ordered_at = datetime.now(UTC)
    tranche.failure_reason = None
    tranche.settled_at = None
    await session.flush()
    if mode is not rules.PaymentMode.EURO:
        await payment_ordered_event(
            session, tranche=tranche, application=application, programme=programme
        )
    return tranche


async def settle(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    status: Literal["paid", "failed"],
    transaction_id: str | None = None,
    reason: str | None = None,
    beneficiary_account_id: str | None = None,
    funding_account_id: str | None = None,
    paid_units: int | None = None,
    conversion_rate: str | None = None,
    conversion_rounding: str | None = None,
) -> Tranche | None:
    """Record the payer's answer to an order; a repeated answer changes nothing.

    A ledger payment's answer names the accounts it actually used (they replace the hints of
    the order, if any) and the conversion of the euro amount: units paid, rate and rounding.
    Returns None when no tranche carries this order id (not ours, or superseded).
    """
    tranche_id = await session.scalar(select(Tranche.id).where(Tranche.order_id == order_id))
    if tranche_id is None:
        return None
    probe = await repository.get(session, Tranche, tranche_id)
    application = await repository.get(session, Application, probe.application_id, lock=True)
    tranche = await repository.get(session, Tranche, tranche_id, lock=True)
    if tranche.order_id != order_id:
        return None
    if tranche.status == status:
        return tranche  # the same answer again
    if tranche.status != "ordered":
        raise TrancheStatusError(
            f"tranche {tranche.number} is {tranche.status}, it cannot become {status}",
            tranche_number=tranche.number,
            tranche_status=tranche.status,
        )
    envelope = await repository.get(session, Envelope, application.envelope_id, lock=True)
    programme = await repository.get(session, Programme, application.programme_id)
    envelope.ordered_cents -= tranche.amount_cents
    if status == "paid":
        envelope.paid_cents += tranche.amount_cents
        application.paid_cents += tranche.amount_cents
        tranche.transaction_id = transaction_id
        if beneficiary_account_id:
            tranche.beneficiary_account_id = beneficiary_account_id
        if funding_account_id:
            tranche.funding_account_id = funding_account_id
        tranche.paid_units = paid_units
        tranche.conversion_rate = conversion_rate
        tranche.conversion_rounding = conversion_rounding
    else:
        tranche.failure_reason = (reason or "").strip() or "refused by the payer"
    tranche.status = status
    tranche.settled_at = datetime.now(UTC)
    await session.flush()
    await payment_outcome_event(
        session, tranche=tranche, application=application, envelope=envelope, programme=programme
    )
    await announce_payable(session, application, programme)
    return tranche
