"""Tranches and payments: order a payable tranche, record euro settlements, export orders."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from services.funding.http.pagination import Page, PageParams, page_of
from services.funding.http.responses import errors
from services.funding.http.scopes import Payer, Reader
from services.funding.tranches import service
from services.funding.tranches.schemas import PaymentOrderCreate, SettlementCreate, TrancheRead
from shared.service_app import DbSession

router = APIRouter(tags=["payments"])


@router.get(
    "/applications/{application_id}/tranches",
    response_model=Page[TrancheRead],
    responses=errors(),
)
async def list_tranches(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """The grant's payment schedule and where each tranche's payment stands."""
    rows, cursor = await service.readable_tranches(session, principal, application_id, page)
    return page_of(rows, cursor, TrancheRead)


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
    return await service.order(
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
    return await service.settle_euro(
        session,
        principal,
        tranche_id,
        status=body.status,
        reason=body.reason,
        transaction_id=body.transaction_id,
    )


@router.get(
    "/payment-orders.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **errors()},
)
async def export_euro_orders(session: DbSession, principal: Payer) -> Response:
    """Euro payment orders awaiting the treasury, as CSV (one line per ordered tranche);
    text cells a spreadsheet would run as formulas start with a single quote."""
    content = await service.euro_orders_csv(session, principal)
    return Response(content=content, media_type="text/csv")
