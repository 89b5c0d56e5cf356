"""The ledger's answers to the instruments' orders (the grants' saga shape): a settled
repayment order counts from then on and is matched to the instalments in order; a settled
guarantee call turns its reserved payment credits into a payment; a rejected one is kept
with its reason (a refused call gives its credits back and may be made again).

An answer changes only the order it names, once: a repeated or contradicting answer finds
the order no longer ``ordered`` and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.service import base as applications
from services.funding.instruments import events, repository
from services.funding.instruments.service import figures
from services.funding.instruments.service.servicing import settle_on_envelope, still_owed
from services.funding.programmes import service as programmes


async def settle(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    status: Literal["paid", "failed"],
    transaction_id: str | None = None,
    reason: str | None = None,
    paid_units: int | None = None,
) -> bool:
    """Record the ledger's answer on the repayment or guarantee call it names; False when
    no instrument order carries this id."""
    repayment = await repository.repayment_by_order(session, order_id)
    call = None if repayment is not None else await repository.call_by_order(session, order_id)
    order = repayment or call
    if order is None:
        return False
    row = await repository.instrument(session, order.instrument_id, lock=True)
    await session.refresh(order)  # read again under the instrument's lock
    if order.status != "ordered" or order.order_id != order_id:
        return True  # answered already (or superseded by a new call)
    application = await applications.locked(session, row.application_id)
    code = (await programmes.programme(session, application.programme_id)).code
    if status == "failed":
        order.status = "failed"
        order.failure_reason = (reason or "").strip() or "refused by the ledger"
        if call is not None:
            await settle_on_envelope(session, application, call.paid_cents, paid=False)
        await session.flush()
        return True
    order.transaction_id = transaction_id
    order.paid_units = paid_units
    if repayment is not None:
        repayment.status = "settled"
        await session.flush()
        await programmes.record_returns(
            session, envelope_id=application.envelope_id, repaid_cents=repayment.amount_cents
        )
        owed = await still_owed(session, row)
        await events.repaid_event(
            session,
            row=row,
            application=application,
            code=code,
            repayment=repayment,
            owed_cents=owed,
        )
        await figures.announce(session, application.territory)
        return True
    assert call is not None
    call.status = "paid"
    await settle_on_envelope(session, application, call.paid_cents, paid=True)
    await events.called_event(session, row=row, application=application, code=code, call=call)
    await figures.announce(session, application.territory)
    return True
