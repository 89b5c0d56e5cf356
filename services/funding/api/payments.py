"""Tranches and payments: order a payable tranche, record euro settlements, export orders."""

from __future__ import annotations

import io
import uuid
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from services.funding.api.dependencies import PageParams, Payer, Reader, errors
from services.funding.api.schemas import Page, PaymentOrderCreate, SettlementCreate, TrancheRead
from services.funding.domain.errors import InvalidPaymentModeError, TrancheStatusError
from services.funding.domain.tranches import PaymentMode
from services.funding.service import access, applications, tranches
from services.funding.store import repository
from services.funding.store.models import Application, Envelope, Programme, Tranche
from shared import csv_safety
from shared.problems import Unprocessable
from shared.service_app import DbSession

router = APIRouter(tags=["payments"])

CSV_COLUMNS = (
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


@router.get(
    "/applications/{application_id}/tranches",
    response_model=Page[TrancheRead],
    responses=errors(),
)
async def list_tranches(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """The grant's payment schedule and where each tranche's payment stands."""
    await applications.load(session, principal, application_id)
    statement = select(Tranche).where(Tranche.application_id == application_id)
    rows, cursor = await repository.paginate(
        session, statement, key=Tranche.id, cursor=page.cursor, limit=page.limit
    )
    return {"items": [TrancheRead.model_validate(r) for r in rows], "next_cursor": cursor}


@router.post(
    "/tranches/{tranche_id}/payment-orders", response_model=TrancheRead, responses=errors()
)
async def order_payment(
    tranche_id: uuid.UUID, body: PaymentOrderCreate, session: DbSession, principal: Payer
) -> Any:
    """Order a payable tranche: in euros (exported order) or through the ledger in a local
    currency or programme credits (emits ``proxima.funding.payment.ordered.v1``).

    Through the ledger the account ids may be omitted: the ledger pays the account the
    beneficiary linked to the application from an account mandated to the programme, and
    refuses an order naming others; the tranche shows the accounts, units paid and conversion
    from its answer once settled."""
    if access.is_applicant(principal):
        raise access.UnknownRoleError("applicants cannot order payments")
    return await tranches.order(
        session,
        principal,
        tranche_id,
        mode=body.mode,
        currency_code=body.currency_code,
        beneficiary_account_id=body.beneficiary_account_id,
        funding_account_id=body.funding_account_id,
    )


@router.post("/tranches/{tranche_id}/settlement", response_model=TrancheRead, responses=errors())
async def settle_euro_payment(
    tranche_id: uuid.UUID, body: SettlementCreate, session: DbSession, principal: Payer
) -> Any:
    """Record the treasury's answer to a euro order (ledger payments are answered by events)."""
    tranche = await repository.get(session, Tranche, tranche_id)
    await applications.load(session, principal, tranche.application_id)
    if tranche.order_id is None:
        raise TrancheStatusError(
            f"tranche {tranche.number} was never ordered", tranche_status=tranche.status
        )
    if tranche.payment_mode != PaymentMode.EURO:
        raise InvalidPaymentModeError("this tranche is paid through the ledger, which answers")
    if body.status == "failed" and not body.reason:
        raise Unprocessable("a failed payment needs a reason", fields={"reason": "missing"})
    settled = await tranches.settle(
        session,
        order_id=tranche.order_id,
        status=body.status,
        transaction_id=body.transaction_id,
        reason=body.reason,
    )
    return settled


@router.get(
    "/payment-orders.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **errors()},
)
async def export_euro_orders(session: DbSession, principal: Payer) -> Response:
    """Euro payment orders awaiting the treasury, as CSV (one line per ordered tranche);
    text cells a spreadsheet would run as formulas start with a single quote."""
    rows = (
        await session.execute(
            select(Tranche, Application, Envelope, Programme)
            .join(Application, Application.id == Tranche.application_id)
            .join(Envelope, Envelope.id == Application.envelope_id)
            .join(Programme, Programme.id == Application.programme_id)
            .where(Tranche.status == "ordered", Tranche.payment_mode == PaymentMode.EURO.value)
            .order_by(Tranche.ordered_at, Tranche.id)
        )
    ).all()
    out = io.StringIO()
    writer = csv_safety.writer(out)
    writer.writerow(CSV_COLUMNS)
    for tranche, application, envelope, programme in rows:
        if not access.may_use_envelope(principal, envelope, programme):
            continue
        if not access.may_see_territory(principal, application):
            continue
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
    return Response(content=out.getvalue(), media_type="text/csv")
