"""Payment schedules and the payment saga: order a tranche, record the payer's answer.

Money moves on the envelope under its row lock: an order reserves its amount
(``ordered_cents``, counted against both the commitment and the payment credits), a
confirmation turns the reservation into ``paid_cents``, a failure gives it back. An answer
that arrives twice finds the tranche already settled and changes nothing.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.applications.service import base as applications
from services.funding.db.repository import Page, Paging, add, page_of_file
from services.funding.instruments.service import figures as instrument_figures
from services.funding.programmes import service as programmes
from services.funding.programmes.models import Programme
from services.funding.programmes.rules.budget import Commitment
from services.funding.tenancy.errors import UnknownRoleError
from services.funding.tenancy.roles import is_applicant
from services.funding.tranches import repository, rules
from services.funding.tranches.errors import (
    InvalidPaymentModeError,
    TrancheNotPayableError,
    TrancheStatusError,
)
from services.funding.tranches.events import (
    payment_ordered_event,
    payment_outcome_event,
    tranche_payable_event,
)
from services.funding.tranches.models import Tranche
from shared import csv_safety
from shared.auth import Principal
from shared.ids import uuid7
from shared.problems import Unprocessable

_PAYING_STATES = frozenset({"in_payment", "final_report_received"})

EURO_ORDER_COLUMNS = (
    "order_id",
    "ordered_at",
    "programme_code",
    "envelope_code",
    "application_id",
    "beneficiary",
    "tranche_number",
    "tranche_kind",
    "amount_cents",
    "currency",
)


async def progress_of(session: AsyncSession, application: Application) -> rules.Progress:
    """The facts of the file that release tranches."""
    return rules.Progress(
        decision_notified=application.granted_amount_cents is not None,
        convention_signed=application.convention_reference is not None,
        intermediate_reports_accepted=await repository.accepted_intermediate_reports(
            session, application.id
        ),
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
    await add(
        session,
        *(
            Tranche(
                application_id=application.id,
                number=t.number,
                kind=t.kind.value,
                amount_cents=t.amount_cents,
                payable_when=t.payable_when.value,
                report_number=t.report_number,
                status=t.status.value,
            )
            for t in schedule.tranches
        ),
    )


async def create_disbursement(
    session: AsyncSession, application: Application, programme: Programme
) -> None:
    """A loan's principal as one tranche, payable once the decision is notified (or the
    convention signed, above the threshold): it is paid by the same saga as a grant's."""
    assert application.granted_amount_cents is not None
    schedule = rules.single_disbursement(
        application.granted_amount_cents,
        convention_threshold_cents=programme.convention_threshold_cents,
    )
    [tranche] = schedule.tranches
    await add(
        session,
        Tranche(
            application_id=application.id,
            number=tranche.number,
            kind=tranche.kind.value,
            amount_cents=tranche.amount_cents,
            payable_when=tranche.payable_when.value,
            report_number=None,
            status=tranche.status.value,
        ),
    )


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


async def of_application(session: AsyncSession, application_id: uuid.UUID) -> list[Tranche]:
    """The grant's tranches in schedule order."""
    return await repository.tranches_of(session, application_id)


async def unpaid_numbers(session: AsyncSession, application_id: uuid.UUID) -> list[int]:
    """The numbers of the grant's tranches not paid yet."""
    rows = await repository.tranches_of(session, application_id)
    return [t.number for t in rows if t.status != "paid"]


async def ordered_cents(session: AsyncSession, application_id: uuid.UUID) -> int:
    """What the grant's orders in flight reserve."""
    rows = await repository.tranches_of(session, application_id)
    return sum(t.amount_cents for t in rows if t.status == "ordered")


async def readable_tranches(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, paging: Paging
) -> Page:
    """The grant's payment schedule, one keyset page, if the principal may see the file."""
    await applications.load(session, principal, application_id)
    return await page_of_file(session, Tranche, application_id, paging)


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
    if is_applicant(principal):
        raise UnknownRoleError("applicants cannot order payments")
    found = await repository.tranche(session, tranche_id)
    application, envelope, programme = await applications.load(
        session, principal, found.application_id, lock=True
    )
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
    in_flight = sum(r.amount_cents for r in rows if r.status == "ordered")
    await programmes.reserve_payment(
        session,
        envelope_id=envelope.id,
        commitment=Commitment(
            amount_cents=application.granted_amount_cents or 0,
            paid_cents=application.paid_cents + in_flight,
        ),
        amount_cents=payment.amount_cents,
    )
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
    tranche_id = await repository.tranche_id_of_order(session, order_id)
    if tranche_id is None:
        return None
    probe = await repository.tranche(session, tranche_id)
    application = await applications.locked(session, probe.application_id)
    tranche = await repository.tranche(session, tranche_id, lock=True)
    if tranche.order_id != order_id:
        return None
    if not rules.settles(tranche.number, tranche.status, status):
        return tranche  # the same answer again
    envelope = await programmes.settle_payment(
        session,
        envelope_id=application.envelope_id,
        amount_cents=tranche.amount_cents,
        paid=status == "paid",
    )
    programme = await programmes.programme(session, application.programme_id)
    if status == "paid":
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
    if status == "paid":  # a loan's disbursement moves its territory's figures
        await instrument_figures.announce_disbursed(session, application.id)
    return tranche


async def settle_euro(
    session: AsyncSession,
    principal: Principal,
    tranche_id: uuid.UUID,
    *,
    status: Literal["paid", "failed"],
    reason: str | None,
    transaction_id: str | None,
) -> Tranche | None:
    """Record the treasury's answer to a euro order (ledger payments are answered by events)."""
    tranche = await repository.tranche(session, tranche_id)
    await applications.load(session, principal, tranche.application_id)
    if tranche.order_id is None:
        raise TrancheStatusError(
            f"tranche {tranche.number} was never ordered", tranche_status=tranche.status
        )
    if tranche.payment_mode != rules.PaymentMode.EURO:
        raise InvalidPaymentModeError("this tranche is paid through the ledger, which answers")
    if status == "failed" and not reason:
        raise Unprocessable("a failed payment needs a reason", fields={"reason": "missing"})
    return await settle(
        session,
        order_id=tranche.order_id,
        status=status,
        transaction_id=transaction_id,
        reason=reason,
    )


async def euro_orders_csv(session: AsyncSession, principal: Principal) -> str:
    """Euro payment orders awaiting the treasury that the principal may see, as CSV; text
    cells a spreadsheet would run as formulas start with a single quote."""
    out = io.StringIO()
    writer = csv_safety.writer(out)
    writer.writerow(EURO_ORDER_COLUMNS)
    for tranche, application, envelope, programme in await repository.readable_euro_orders(
        session, principal
    ):
        writer.writerow(
            (
                tranche.order_id,
                tranche.ordered_at.isoformat() if tranche.ordered_at else "",
                programme.code,
                envelope.code,
                application.id,
                application.applicant_name,
                tranche.number,
                tranche.kind,
                tranche.amount_cents,
                tranche.currency_code,
            )
        )
    return out.getvalue()
