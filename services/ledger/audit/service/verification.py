"""Verification of a currency's audit chain, page by page from the postings themselves."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.audit import repository as repo
from services.ledger.audit.rules.chain import GENESIS, check_link
from services.ledger.currencies.service.registry import visible_currency
from shared.auth import Principal

PAGE = 1000


async def verify_chain(session: AsyncSession, *, currency: str, page: int = PAGE) -> dict[str, Any]:
    """Recompute every link in position order; stop at the first broken one.

    Memory stays at one page whatever the chain's length: links are read by keyset on
    position, their transactions and postings fetched per page.
    """
    verified = 0
    prev_hash = GENESIS
    position = 0
    first_broken = None
    while first_broken is None:
        links = await repo.chain_page(
            session, currency=currency, after_position=position, limit=page
        )
        if not links:
            break
        items = await repo.sealables(
            session, currency=currency, transaction_ids=[link.transaction_id for link in links]
        )
        for link in links:
            broken = check_link(
                link,
                items.get(link.transaction_id),
                expected_position=position + 1,
                prev_hash=prev_hash,
            )
            if broken is not None:
                first_broken = asdict(broken)
                break
            verified += 1
            position, prev_hash = link.position, link.hash
    return {
        "currency": currency,
        "verified_links": verified,
        "unsealed_transactions": await repo.count_unsealed(session, currency=currency),
        "first_broken": first_broken,
    }


async def verify(session: AsyncSession, principal: Principal, currency: str) -> dict[str, Any]:
    """`verify_chain` of a currency the caller's tenancy lets it see.

    One snapshot for the whole answer: under READ COMMITTED the chain and the unsealed
    count are two statements, and a sealer committing between them made a fully sealed
    chain read as "0 verified, 0 unsealed"."""
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    await visible_currency(session, principal, currency)
    return await verify_chain(session, currency=currency)
