"""The ledger's tenancy checks per path parameter, run before a 422 (`shared.access_first`):
the same checks its reads make, so a malformed request about another currency's account,
card, hold or transaction is refused exactly as a well-formed one is."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts.service import visible_account
from services.ledger.cards.service import visible_card
from services.ledger.currencies.service.registry import visible_currency
from services.ledger.holds.service import visible_hold
from services.ledger.transactions.service.single import ensure_visible, load_transaction
from shared.access_first import path_uuid
from shared.auth import Principal


async def ledger_access_gate(request: Request, principal: Principal, session: AsyncSession) -> None:
    if (code := request.path_params.get("code")) is not None:
        await visible_currency(session, principal, str(code))
    if (account_id := path_uuid(request, "account_id")) is not None:
        await visible_account(session, principal, account_id)
    if (card_id := path_uuid(request, "card_id")) is not None:
        await visible_card(session, principal, card_id, lock=False)
    if (hold_id := path_uuid(request, "hold_id")) is not None:
        await visible_hold(session, principal, hold_id, lock=False)
    if (transaction_id := path_uuid(request, "transaction_id")) is not None:
        ensure_visible(principal, await load_transaction(session, transaction_id))
