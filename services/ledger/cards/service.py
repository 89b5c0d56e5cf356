"""Cards and tokens: issue, block, and card payments at a merchant.

Decisions:
- A card maps to one account for life; an account may carry several cards (a plastic card
  and a phone token). The ledger keeps a keyed fingerprint and the last four characters
  only (see `services.ledger.cards.rules`).
- A card payment in a local, mutual-credit or time currency is a hold (authorisation) from
  the card's account to the merchant, captured in full or in part later through the hold
  endpoints: the existing two-phase machinery, its bounds checks and its expiry.
- A card holding programme credits (voucher currency) pays in one step, as a programme
  purchase: the hold machinery cannot reserve credit lots, and the purchase path is where
  approved merchants, categories, caps and earliest-expiry-first consumption are enforced.
  Authorising such a card is refused (``card-voucher-purchase-only``).
- Blocking is immediate and final. A payment share-locks the card row while it checks the
  status, and a block updates that row: a block waits for payments already running, and
  every payment that starts after the block committed is refused (``card-blocked``).
  Authorisations granted before the block stay capturable (the sale happened) or expire.
- A card the caller may not see (another currency's tenant) is reported as unknown, so card
  numbers cannot be probed across tenants.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.accounts.errors import AccountClosed
from services.ledger.accounts.rules import AccountStatus, AccountType
from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.cards import repository as repo
from services.ledger.cards.errors import (
    CardAlreadyIssued,
    CardBlocked,
    CardNotForVoucher,
    CardRequiresVoucher,
    InvalidCardMerchant,
    UnknownCard,
)
from services.ledger.cards.rules import CardIdentity, identify, new_token
from services.ledger.currencies.rules.currency import CurrencyKind
from services.ledger.currencies.service.registry import currency_kind
from services.ledger.database.outbox import emit
from services.ledger.holds import service as holds
from services.ledger.programmes.service import purchases
from shared.auth import Principal
from shared.events.catalog.ledger import CardBlocked as CardBlockedEvent
from shared.events.catalog.ledger import CardIssued
from shared.ids import uuid7
from shared.problems import NotFound

DEFAULT_AUTHORISATION_TTL = timedelta(days=7)
"""How long an authorisation waits for its capture when the terminal names no deadline."""


def card_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "account_id": str(row["account_id"]),
        "currency": row["currency"],
        "kind": row["kind"],
        "last4": row["last4"],
        "label": row["label"],
        "status": row["status"],
        "block_reason": row["block_reason"],
        "blocked_at": row["blocked_at"].isoformat() if row["blocked_at"] else None,
        "created_at": row["created_at"].isoformat(),
    }


async def issue(
    session: AsyncSession,
    *,
    account: Mapping[Any, Any],
    identity: CardIdentity | None,
    label: str,
    key: bytes,
) -> dict[str, Any]:
    """Map a card (or a fresh virtual token when ``identity`` is None) to an account.

    A generated token is returned once, in this response, and never again.
    """
    account_id = account["id"]
    if account["status"] == AccountStatus.CLOSED.value:
        raise AccountClosed("a closed account cannot receive a card")
    generated = identity is None
    card = identity or new_token()
    card_id = uuid7()
    row = await repo.insert_card(
        session,
        id=card_id,
        account_id=account_id,
        currency=account["currency"],
        kind=card.kind.value,
        fingerprint=card.fingerprint(key),
        last4=card.last4,
        label=label,
    )
    if row is None:
        raise CardAlreadyIssued("this card number or token is already issued")
    await emit(
        session,
        CardIssued(
            card_id=str(card_id),
            account_id=str(account_id),
            currency=account["currency"],
            kind=card.kind.value,
            last4=card.last4,
        ),
        str(account_id),
    )
    return {**card_view(row), "token": card.secret if generated else None}


async def block(
    session: AsyncSession, *, card: RowMapping, reason: str, blocked_by: str
) -> dict[str, Any]:
    """Block a card (``card``: its row, locked by the caller) at once and for good; blocking
    a blocked card changes nothing."""
    if card["status"] == "blocked":
        return card_view(card)
    row = await repo.block_card(session, card["id"], reason=reason, blocked_by=blocked_by)
    await emit(
        session,
        CardBlockedEvent(
            card_id=str(row["id"]),
            account_id=str(row["account_id"]),
            currency=row["currency"],
            reason=reason,
        ),
        str(row["account_id"]),
    )
    return card_view(row)


async def presented(
    session: AsyncSession, *, identity: CardIdentity, key: bytes, principal: Principal
) -> RowMapping:
    """The active card presented at a terminal, share-locked until the payment commits."""
    row = await repo.card_by_fingerprint(session, identity.fingerprint(key))
    if row is None or not principal.may_access("currencies", row["currency"]):
        raise UnknownCard("no card with this number or token")
    if row["status"] != "active":
        raise CardBlocked("this card is blocked; it authorises nothing", card_id=str(row["id"]))
    return row


async def _merchant(session: AsyncSession, card: RowMapping, merchant: UUID) -> RowMapping:
    row = await accounts.named_account(session, merchant, role="merchant")
    if row["type"] != AccountType.MERCHANT.value or row["currency"] != card["currency"]:
        raise InvalidCardMerchant(
            f"the payee must be a merchant account in {card['currency']}",
            account_id=str(merchant),
        )
    return row


async def authorize(
    session: AsyncSession,
    *,
    card: RowMapping,
    merchant: UUID,
    amount: int,
    expires_at: datetime | None,
    metadata: Mapping[str, str],
    actor: Actor,
) -> dict[str, Any]:
    """Hold ``amount`` from the card's account for the merchant; capture it via /holds."""
    if await currency_kind(session, card["currency"]) == CurrencyKind.VOUCHER.value:
        raise CardNotForVoucher("programme credits are spent with POST /cards/purchases")
    await _merchant(session, card, merchant)
    return await holds.authorize_hold(
        session,
        payer=card["account_id"],
        payee=merchant,
        currency=card["currency"],
        amount=amount,
        expires_at=expires_at or datetime.now(UTC) + DEFAULT_AUTHORISATION_TTL,
        metadata={**metadata, "card_id": str(card["id"]), "card_last4": card["last4"]},
        actor=actor,
    )


async def purchase(
    session: AsyncSession,
    *,
    card: RowMapping,
    merchant: UUID,
    amount: int,
    category: str | None,
    actor: Actor,
) -> dict[str, Any]:
    """Pay an approved merchant from the card account's credit lots, under programme rules."""
    if await currency_kind(session, card["currency"]) != CurrencyKind.VOUCHER.value:
        raise CardRequiresVoucher("this card pays by authorisation: POST /cards/authorizations")
    result = await purchases.purchase(
        session,
        currency=card["currency"],
        beneficiary=card["account_id"],
        merchant=merchant,
        amount=amount,
        category=category,
        actor=actor,
    )
    return {**result, "card_id": str(card["id"])}


# --- as the HTTP routes ask: the caller's token, its tenancy --------------------------------


def card_identity(*, number: str | None, token: str | None) -> CardIdentity:
    """Exactly one of a card number or a token, checked and normalised."""
    return identify(number=number, token=token)


async def issue_request(
    session: AsyncSession,
    principal: Principal,
    *,
    account_id: UUID,
    number: str | None,
    token: str | None,
    label: str,
    key: bytes,
) -> dict[str, Any]:
    """`issue` on an account of the caller's tenancy; with neither number nor token, a
    fresh token."""
    account = await accounts.visible_account(session, principal, account_id)
    identity = None
    if number is not None or token is not None:
        identity = card_identity(number=number, token=token)
    return await issue(session, account=account, identity=identity, label=label, key=key)


async def visible_card(
    session: AsyncSession, principal: Principal, card_id: UUID, *, lock: bool
) -> RowMapping:
    """The card, reported unknown (404) to a caller whose tenancy excludes it."""
    row = await repo.get_card(session, card_id, lock=lock)
    if row is None or not principal.may_access("currencies", row["currency"]):
        raise NotFound(f"no card {card_id}")
    return row


async def read_card(session: AsyncSession, principal: Principal, card_id: UUID) -> dict[str, Any]:
    return card_view(await visible_card(session, principal, card_id, lock=False))


async def list_cards(
    session: AsyncSession, principal: Principal, account_id: UUID, *, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """Cards of an account the caller may read, oldest first."""
    await accounts.readable_account(session, principal, account_id)
    rows = await repo.list_cards(session, account_id=account_id, after=after, limit=limit)
    return [card_view(r) for r in rows]


async def block_request(
    session: AsyncSession, principal: Principal, card_id: UUID, *, reason: str
) -> dict[str, Any]:
    """`block` a card of the caller's tenancy, its row locked first."""
    row = await visible_card(session, principal, card_id, lock=True)
    return await block(session, card=row, reason=reason, blocked_by=principal.client_id)


async def authorize_request(
    session: AsyncSession,
    principal: Principal,
    *,
    card: RowMapping,
    merchant: UUID,
    amount: int,
    expires_at: datetime | None,
    metadata: Mapping[str, str],
) -> dict[str, Any]:
    """`authorize` as the caller, with the presented card as the payer's consent."""
    return await authorize(
        session,
        card=card,
        merchant=merchant,
        amount=amount,
        expires_at=expires_at,
        metadata=metadata,
        actor=authority.actor(principal).with_card(card["account_id"]),
    )


async def purchase_request(
    session: AsyncSession,
    principal: Principal,
    *,
    card: RowMapping,
    merchant: UUID,
    amount: int,
    category: str | None,
) -> dict[str, Any]:
    """`purchase` as the caller, with the presented card as the payer's consent."""
    return await purchase(
        session,
        card=card,
        merchant=merchant,
        amount=amount,
        category=category,
        actor=authority.actor(principal).with_card(card["account_id"]),
    )
