"""Cards and tokens: a card maps to an account; card payments are a hold then a capture.

Scopes: issuing a card is ``ledger:admin`` (it gives spending power over an account).
Blocking is ``ledger:post``: it only ever removes spending power, is final, and must be
possible at once from whatever front line hears of a lost card (the holder's app, a
merchant's terminal software, the operator's hotline), not only from an administrator.
Payments are ``ledger:post``: presenting the card is the payer's consent, so a terminal
needs no other authority over the card's account. Reads are ``ledger:read``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts.errors import (
    AccountClosed,
)
from services.ledger.cards import service as cards
from services.ledger.cards.errors import (
    CardAlreadyIssued,
    CardBlocked,
    CardNotForVoucher,
    CardRequiresVoucher,
    InvalidCardMerchant,
    InvalidCardNumber,
    UnknownCard,
)
from services.ledger.cards.schemas import (
    CardAuthorizationCreate,
    CardBlock,
    CardCreate,
    CardIssued,
    CardPage,
    CardPurchaseCreate,
    CardPurchaseRead,
    CardRead,
)
from services.ledger.holds.schemas import HOLD_ERRORS, HoldRead
from services.ledger.http.idempotency import Idempotency, IdempotencyContext, idempotent
from services.ledger.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    page,
)
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Poster, Reader
from services.ledger.programmes.schemas import PURCHASE_ERRORS
from shared.auth import Principal
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/cards", tags=["cards"])

PRESENT_ERRORS = (InvalidCardNumber, UnknownCard, CardBlocked)


def _key(request: Request) -> bytes:
    secret: str = request.app.state.settings.card_fingerprint_secret
    return secret.encode()


@dataclass(frozen=True, slots=True)
class CardPayment:
    """What a card payment needs besides its body: the paying terminal's principal (its
    ``ledger:post`` scope), the unit of work, the fingerprint key and the idempotency key."""

    principal: Principal
    session: AsyncSession
    request: Request
    idempotency: IdempotencyContext

    async def once(
        self,
        body: CardAuthorizationCreate | CardPurchaseCreate,
        *,
        pay: Callable[[AsyncSession, Principal, Any], Awaitable[Any]],
        model: type[BaseModel],
    ) -> Any:
        """A payment with the card ``body`` presents, once per idempotency key: the card is
        identified and checked (known, not blocked, visible) inside the key's transaction,
        then ``pay`` runs with the session, the principal and the card."""
        identity = cards.card_identity(number=body.card_number, token=body.token)
        key = _key(self.request)
        # What a replay must repeat, with the card's fingerprint instead of its number: the
        # idempotency table must not hold a plain hash of a card number either.
        fields = body.model_dump(mode="json", exclude={"card_number", "token", "idempotency_key"})
        replayed = {**fields, "card": identity.fingerprint(key)}

        async def run() -> Any:
            card = await cards.presented(
                self.session, identity=identity, key=key, principal=self.principal
            )
            return await pay(self.session, self.principal, card)

        return await idempotent(
            self.session,
            principal=self.principal,
            key=self.idempotency.key(body.idempotency_key),
            route=self.idempotency.route,
            body=replayed,
            run=run,
            model=model,
        )


async def card_payment(
    principal: Poster, session: DbSession, request: Request, idempotency: Idempotency
) -> CardPayment:
    return CardPayment(principal, session, request, idempotency)


# ``scope="function"``: it holds the session, whose unit of work commits before the answer.
Payment = Annotated[CardPayment, Depends(card_payment, scope="function")]


@router.post(
    "",
    status_code=201,
    response_model=CardIssued,
    responses={
        **AUTH_ERRORS,
        **problem_responses(NotFound, AccountClosed, InvalidCardNumber, CardAlreadyIssued),
    },
)
async def issue_card(
    body: CardCreate, principal: Admin, session: DbSession, request: Request
) -> Any:
    """Map a card number or token to an account; with neither, generate a token (shown once)."""
    return await cards.issue_request(
        session,
        principal,
        account_id=body.account_id,
        number=body.card_number,
        token=body.token,
        label=body.label,
        key=_key(request),
    )


@router.get(
    "",
    response_model=CardPage,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, InvalidCursor)},
)
async def list_cards(
    principal: Reader,
    session: DbSession,
    account_id: Annotated[UUID, Query(description="The account whose cards to list")],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Cards of one account, oldest first (numbers are never shown, only the last four)."""
    items = await cards.list_cards(
        session, principal, account_id, after=decode_cursor(cursor, UUID), limit=limit
    )
    return page(items, limit=limit, key=lambda c: c["id"])


# ``:uuid``: ``/cards/authorizations`` and ``/cards/purchases`` are not a card's id, so a
# GET of them is a 405 naming their methods rather than a 422 about ``card_id``.
@router.get(
    "/{card_id:uuid}",
    response_model=CardRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def get_card(card_id: UUID, principal: Reader, session: DbSession) -> Any:
    """One card."""
    return await cards.read_card(session, principal, card_id)


@router.post(
    "/{card_id}/block",
    response_model=CardRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def block_card(card_id: UUID, body: CardBlock, principal: Poster, session: DbSession) -> Any:
    """Block a lost or stolen card at once and for good (a new card must be issued)."""
    reason = f"{body.reason}: {body.note}" if body.note else body.reason
    return await cards.block_request(session, principal, card_id, reason=reason)


@router.post(
    "/authorizations",
    status_code=201,
    response_model=HoldRead,
    responses={
        200: {"model": HoldRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(*PRESENT_ERRORS, *HOLD_ERRORS, InvalidCardMerchant, CardNotForVoucher),
    },
)
async def authorize(body: CardAuthorizationCreate, payment: Payment) -> Any:
    """Authorise a card payment at a merchant: a hold, captured later via /holds/{id}/capture."""
    return await payment.once(
        body,
        model=HoldRead,
        pay=lambda session, principal, card: cards.authorize_request(
            session,
            principal,
            card=card,
            merchant=body.merchant_account_id,
            amount=body.amount,
            expires_at=body.expires_at,
            metadata=body.metadata,
        ),
    )


@router.post(
    "/purchases",
    status_code=201,
    response_model=CardPurchaseRead,
    responses={
        200: {"model": CardPurchaseRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(*PRESENT_ERRORS, *PURCHASE_ERRORS, CardRequiresVoucher),
    },
)
async def purchase(body: CardPurchaseCreate, payment: Payment) -> Any:
    """Pay with a programme-credit card: one step, under the programme's merchant, category
    and cap rules, from the earliest-expiring credit lots."""
    return await payment.once(
        body,
        model=CardPurchaseRead,
        pay=lambda session, principal, card: cards.purchase_request(
            session,
            principal,
            card=card,
            merchant=body.merchant_account_id,
            amount=body.amount,
            category=body.category,
        ),
    )
