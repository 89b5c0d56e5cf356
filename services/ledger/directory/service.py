"""The public directory: the operator lists a business with its consent, curates its
profile, withdraws it on request; anyone reads the listed profiles.

Curating needs ``ledger:admin`` bound to every currency the profile names (the operator of
those currencies). A profile names a merchant account, so no individual member can be
listed; withdrawal erases the personal data at once (`repository.withdraw`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.currencies.service import registry
from services.ledger.directory import repository, rules
from services.ledger.directory.errors import (
    AlreadyListed,
    CurrencyNotAccepted,
    ListingWithdrawn,
    NotAMerchantAccount,
)
from services.ledger.directory.schemas import ListingCreate, ListingProfile
from shared.auth import Principal
from shared.problems import NotFound


def _ensure_operates(principal: Principal, currencies: Sequence[str]) -> None:
    for code in currencies:
        principal.ensure_access("currencies", code)


async def _operated(session: AsyncSession, principal: Principal, currencies: Sequence[str]) -> None:
    """Every currency a profile names exists (404) and the caller operates it (403)."""
    for code in sorted(set(currencies)):
        await registry.visible_currency(session, principal, code)


def _profile_values(profile: ListingProfile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "category": profile.category,
        "address": profile.address,
        "latitude": profile.latitude,
        "longitude": profile.longitude,
        "currencies": sorted(set(profile.currencies)),
        "opening_hours": [slot.model_dump() for slot in profile.opening_hours],
    }


async def _merchant(session: AsyncSession, principal: Principal, body: ListingCreate) -> None:
    account = await accounts.visible_account(session, principal, body.account_id)
    if account["type"] != "merchant":
        raise NotAMerchantAccount(
            f"account {body.account_id} is a {account['type']} account, not a merchant's"
        )
    if account["currency"] not in body.currencies:
        raise CurrencyNotAccepted(
            f"the account holds {account['currency']}, not among {sorted(body.currencies)}"
        )


async def create_listing(
    session: AsyncSession, principal: Principal, body: ListingCreate
) -> RowMapping:
    """List a business, with the consent the operator records on its behalf."""
    await _operated(session, principal, body.currencies)
    await _merchant(session, principal, body)
    row = await repository.insert_listing(
        session,
        id=uuid.uuid4(),
        account_id=body.account_id,
        consent_given_by=body.consent.given_by,
        consent_given_at=body.consent.given_at,
        consent_recorded_by=principal.client_id,
        **_profile_values(body),
    )
    if row is None:
        raise AlreadyListed(f"account {body.account_id} already has a public profile")
    return row


async def _curated(session: AsyncSession, principal: Principal, listing_id: UUID) -> RowMapping:
    row = await repository.get_listing(session, listing_id)
    if row is None:
        raise NotFound(f"no listing {listing_id}")
    _ensure_operates(principal, row["currencies"])
    return row


async def get_listing(session: AsyncSession, principal: Principal, listing_id: UUID) -> RowMapping:
    return await _curated(session, principal, listing_id)


async def update_listing(
    session: AsyncSession, principal: Principal, listing_id: UUID, body: ListingProfile
) -> RowMapping:
    """Replace the curated profile (the consent record stays as it was given)."""
    row = await _curated(session, principal, listing_id)
    if row["status"] != "listed":
        raise ListingWithdrawn(f"listing {listing_id} was withdrawn")
    await _operated(session, principal, body.currencies)
    account = await accounts.require_account(session, row["account_id"])
    if account["currency"] not in body.currencies:
        raise CurrencyNotAccepted(
            f"the account holds {account['currency']}, not among {sorted(body.currencies)}"
        )
    return await repository.update_profile(session, listing_id, **_profile_values(body))


async def withdraw_listing(
    session: AsyncSession, principal: Principal, listing_id: UUID
) -> RowMapping:
    """Withdraw at the business's request: off the directory, personal data erased.
    Withdrawing twice answers the tombstone again."""
    row = await _curated(session, principal, listing_id)
    if row["status"] == "withdrawn":
        return row
    return await repository.withdraw(session, listing_id, recorded_by=principal.client_id)


async def public_page(
    session: AsyncSession,
    *,
    currency: str | None,
    category: str | None,
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await repository.listed(
        session, currency=currency, category=category, after=after, limit=limit
    )
    return [rules.public_profile(r) for r in rows]


async def public_features(
    session: AsyncSession, *, currency: str | None, category: str | None
) -> dict[str, Any]:
    """The listed businesses as one GeoJSON FeatureCollection (a map loads it at once),
    the first `rules.MAX_FEATURES` by id: a bound on one anonymous answer's cost."""
    rows = await repository.listed(
        session, currency=currency, category=category, after=None, limit=rules.MAX_FEATURES
    )
    return rules.feature_collection(rules.public_profile(r) for r in rows)
