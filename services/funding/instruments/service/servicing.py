"""Servicing: schedules and rescheduling, repayments matched in order, the position and
arrears of a loan, guarantee calls and recoveries. Every write takes the instrument's row
lock, so two repayments cannot both pass the balance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.applications.service import base as applications
from services.funding.db.repository import Page, Paging, add
from services.funding.instruments import events, repository, rules
from services.funding.instruments.errors import (
    FollowUpError,
    FourEyesError,
    FutureDateError,
    GuaranteeCallError,
    NotDisbursedError,
    NothingToRescheduleError,
    OverpaymentError,
    WriteOffError,
)
from services.funding.instruments.models import (
    FollowUp,
    GuaranteeCall,
    Instrument,
    Recovery,
    Repayment,
    ScheduleVersion,
    WriteOff,
)
from services.funding.instruments.service import figures
from services.funding.instruments.service.base import (
    current,
    guarantee_terms,
    load,
    require_guarantee,
    require_loan,
    store_version,
    written_off,
)
from services.funding.instruments.service.clock import today
from services.funding.programmes import service as programmes
from services.funding.programmes.rules.budget import Commitment
from shared.auth import Principal
from shared.ids import uuid7


async def schedules(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, paging: Paging
) -> tuple[list[dict[str, Any]], str | None]:
    """The loan's schedule versions, each with its instalments and what was matched to them
    (paid amounts as of today, for the current version)."""
    row, _, _ = await load(session, principal, instrument_id)
    require_loan(row)
    versions, cursor = await repository.versions_page(session, row.id, paging)
    return await _version_views(session, row, versions), cursor


async def _version_views(
    session: AsyncSession, row: Instrument, versions: Sequence[ScheduleVersion]
) -> list[dict[str, Any]]:
    """``versions`` with their instalments; amounts paid only on the current version."""
    latest, _, pos = await current(session, row, today())
    paid = {p.instalment.number: p.paid_cents for p in pos.instalments}
    out = []
    for version in versions:
        stored = await repository.instalments(session, version.id)
        out.append(
            {
                **{c.key: getattr(version, c.key) for c in ScheduleVersion.__table__.columns},
                "instalments": [
                    {
                        "number": i.number,
                        "due_on": i.due_on,
                        "principal_cents": i.principal_cents,
                        "interest_cents": i.interest_cents,
                        "amount_cents": i.principal_cents + i.interest_cents,
                        "paid_cents": paid.get(i.number, 0) if version.id == latest.id else 0,
                    }
                    for i in stored
                ],
            }
        )
    return out


async def position(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, as_of: date | None
) -> dict[str, Any]:
    row, application, _ = await load(session, principal, instrument_id)
    require_loan(row)
    day = as_of or today()
    version, _, pos = await current(session, row, day)
    return {
        "instrument_id": row.id,
        "as_of": day,
        "state": rules.loan_state(
            application.paid_cents > 0, pos, written_off=await written_off(session, row)
        ).value,
        "schedule_version": version.version,
        "disbursed_cents": application.paid_cents,
        "owed_cents": pos.owed_cents,
        "repaid_cents": pos.repaid_cents,
        "due_cents": pos.due_cents,
        "arrears_cents": pos.arrears_cents,
        "days_in_arrears": pos.days_in_arrears,
        "flagged": pos.flagged,
    }


def _not_after_today(day: date, field: str) -> None:
    if day > today():
        raise FutureDateError(f"{field} {day} is after today", field=field)


async def still_owed(session: AsyncSession, row: Instrument) -> int:
    """What the borrower still owes, counting every repayment whatever its date."""
    _, _, pos = await current(session, row, date.max)
    return pos.owed_cents


async def repay(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, data: Any
) -> Repayment:
    """A repayment: euros the treasury received, recorded and matched at once; or, in a
    local currency, a direct debit ordered to the ledger, matched when it answers. Refused
    before disbursement or beyond what is owed less the orders in flight."""
    _not_after_today(data.received_on, "received_on")
    row, application, code = await load(session, principal, instrument_id, lock=True)
    require_loan(row)
    if application.paid_cents <= 0:
        raise NotDisbursedError("the loan has not been disbursed yet")
    owed = await still_owed(session, row) - await repository.in_flight_cents(session, row.id)
    if data.amount_cents > owed:
        raise OverpaymentError(f"{data.amount_cents} cents received, {owed} owed", owed_cents=owed)
    repayment = Repayment(
        instrument_id=row.id,
        amount_cents=data.amount_cents,
        received_on=data.received_on,
        reference=data.reference,
        recorded_by=principal.client_id,
    )
    if data.currency_code is not None:
        repayment.status = "ordered"
        repayment.order_id = uuid7()
        repayment.currency_code = data.currency_code
        await add(session, repayment)
        await events.order_event(
            session, row=row, application=application, code=code, order=repayment
        )
        return repayment
    repayment.status = "recorded"
    await add(session, repayment)
    await programmes.record_returns(
        session, envelope_id=application.envelope_id, repaid_cents=repayment.amount_cents
    )
    await events.repaid_event(
        session,
        row=row,
        application=application,
        code=code,
        repayment=repayment,
        owed_cents=owed - repayment.amount_cents,
    )
    await figures.announce(session, application.territory)
    return repayment


async def repayments(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, paging: Paging
) -> Page:
    row, _, _ = await load(session, principal, instrument_id)
    require_loan(row)
    return await repository.repayments_page(session, row.id, paging)


async def reschedule(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, data: Any
) -> dict[str, Any]:
    """A new schedule version spreading what is still owed, with its reason; its view."""
    row, application, _ = await load(session, principal, instrument_id, lock=True)
    require_loan(row)
    versions = await repository.versions(session, row.id)
    owed = await still_owed(session, row)
    if owed == 0:
        raise NothingToRescheduleError("the loan is repaid")
    received = sum(r.amount_cents for r in await repository.repayments(session, row.id))
    version = await store_version(
        session,
        row,
        version=versions[-1].version + 1,
        reason=data.reason,
        base_repaid_cents=received,
        actor=principal.client_id,
        instalments=rules.reschedule(
            owed,
            start_on=data.start_on,
            instalments=data.instalments,
            frequency=data.frequency,
        ),
    )
    (view,) = await _version_views(session, row, [version])
    await figures.announce(session, application.territory)  # what falls due changed
    return view


async def call_guarantee(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, data: Any
) -> GuaranteeCall:
    """The bank reports a default: the guarantee pays its share of the outstanding, up to
    its cap, once: in euros by the treasury (recorded paid), or in a local currency by the
    ledger (its payment credits reserved until the ledger answers). A call the ledger
    refused may be made again."""
    _not_after_today(data.defaulted_on, "defaulted_on")
    row, application, code = await load(session, principal, instrument_id, lock=True)
    require_guarantee(row)
    call = await repository.call_of(session, row.id)
    if call is not None and call.status != "failed":
        raise GuaranteeCallError("the guarantee was already called")
    if call is None:
        call = GuaranteeCall(instrument_id=row.id)
        session.add(call)
    call.defaulted_on = data.defaulted_on
    call.outstanding_cents = data.outstanding_cents
    call.paid_cents = guarantee_terms(row).call_amount(data.outstanding_cents)
    call.recorded_by = principal.client_id
    call.failure_reason = None
    call.currency_code = data.currency_code
    call.order_id = uuid7() if data.currency_code is not None else None
    call.status = "ordered" if data.currency_code is not None else "paid"
    await session.flush()
    await _reserve_on_envelope(session, application, call.paid_cents)
    if call.status == "ordered":
        await events.order_event(session, row=row, application=application, code=code, order=call)
        return call
    await settle_on_envelope(session, application, call.paid_cents, paid=True)
    await events.called_event(session, row=row, application=application, code=code, call=call)
    await figures.announce(session, application.territory)
    return call


async def _reserve_on_envelope(
    session: AsyncSession, application: Application, amount_cents: int
) -> None:
    """A called guarantee is public money paid: it reserves the envelope's payment credits
    (CP) against the cap committed at decision, like a tranche ordered."""
    locked = await applications.locked(session, application.id)
    await programmes.reserve_payment(
        session,
        envelope_id=locked.envelope_id,
        commitment=Commitment(
            amount_cents=locked.granted_amount_cents or 0, paid_cents=locked.paid_cents
        ),
        amount_cents=amount_cents,
    )
    await session.flush()  # settle_payment re-reads the envelope under its lock


async def settle_on_envelope(
    session: AsyncSession, application: Application, amount_cents: int, *, paid: bool
) -> None:
    """The reservation becomes a payment (CP consumed, counted paid on the file), or goes
    back to the envelope when the ledger refused the call."""
    locked = await applications.locked(session, application.id)
    await programmes.settle_payment(
        session, envelope_id=locked.envelope_id, amount_cents=amount_cents, paid=paid
    )
    if paid:
        locked.paid_cents += amount_cents
        await programmes.record_returns(
            session, envelope_id=locked.envelope_id, losses_cents=amount_cents
        )
    await session.flush()


async def recover(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, data: Any
) -> Recovery:
    """Money recovered after a call; never more than the call paid."""
    _not_after_today(data.received_on, "received_on")
    row, application, _ = await load(session, principal, instrument_id, lock=True)
    require_guarantee(row)
    call = await repository.call_of(session, row.id)
    if call is None or call.status != "paid":
        raise GuaranteeCallError("nothing to recover: the guarantee has not paid")
    recovered = await repository.recovered_cents(session, row.id)
    if recovered + data.amount_cents > call.paid_cents:
        raise GuaranteeCallError(
            "recoveries would exceed what the guarantee paid",
            paid_cents=call.paid_cents,
            recovered_cents=recovered,
        )
    recovery = Recovery(
        instrument_id=row.id,
        amount_cents=data.amount_cents,
        received_on=data.received_on,
        recorded_by=principal.client_id,
    )
    await add(session, recovery)
    await programmes.record_returns(
        session,
        envelope_id=application.envelope_id,
        recovered_cents=recovery.amount_cents,
        losses_cents=-recovery.amount_cents,
    )
    await figures.announce(session, application.territory)  # the losses went down
    return recovery


async def request_write_off(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, reason: str
) -> WriteOff:
    """One officer asks to write off a flagged loan; a second must approve."""
    row, application, _ = await load(session, principal, instrument_id, lock=True)
    require_loan(row)
    if await repository.write_off_of(session, row.id) is not None:
        raise WriteOffError("a write-off was already asked for this loan")
    _, _, pos = await current(session, row, today())
    if application.paid_cents <= 0 or not pos.flagged:
        raise WriteOffError(
            f"only a flagged loan ({rules.ARREARS_THRESHOLD_DAYS} days of arrears) is written off",
            days_in_arrears=pos.days_in_arrears,
        )
    write_off = WriteOff(
        instrument_id=row.id,
        reason=reason,
        owed_cents=pos.owed_cents,
        requested_by=principal.client_id,
    )
    await add(session, write_off)
    return write_off


async def approve_write_off(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID
) -> WriteOff:
    """A second officer approves the write-off (four eyes)."""
    row, application, _ = await load(session, principal, instrument_id, lock=True)
    write_off = await repository.write_off_of(session, row.id)
    if write_off is None or write_off.approved_by is not None:
        raise WriteOffError("no write-off awaits approval on this loan")
    if write_off.requested_by == principal.client_id:
        raise FourEyesError("the officer who asked for the write-off cannot approve it")
    write_off.approved_by = principal.client_id
    write_off.approved_at = datetime.now(UTC)
    await programmes.record_returns(
        session, envelope_id=application.envelope_id, losses_cents=write_off.owed_cents
    )
    await figures.announce(session, application.territory)
    return write_off


async def record_follow_up(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, data: Any
) -> FollowUp:
    """The supported firm seen 1, 3 or 5 years on: still active or not, its jobs then; once
    per age (409 again), never on a day to come."""
    _not_after_today(data.observed_on, "observed_on")
    row, _, _ = await load(session, principal, instrument_id, lock=True)
    if await repository.follow_up_of(session, row.id, data.years) is not None:
        raise FollowUpError(
            f"the {data.years}-year follow-up is already recorded", years=data.years
        )
    follow_up = FollowUp(
        instrument_id=row.id,
        years=data.years,
        observed_on=data.observed_on,
        active=data.active,
        jobs=data.jobs,
        recorded_by=principal.client_id,
    )
    await add(session, follow_up)
    return follow_up


async def follow_ups(
    session: AsyncSession, principal: Principal, instrument_id: uuid.UUID, paging: Paging
) -> Page:
    row, _, _ = await load(session, principal, instrument_id)
    return await repository.follow_ups_page(session, row.id, paging)
