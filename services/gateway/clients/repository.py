"""All SQL of the client registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.clients.models import Client, ClientSecret


async def get(session: AsyncSession, client_id: str, *, for_update: bool = False) -> Client | None:
    query = select(Client).where(Client.client_id == client_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def add(session: AsyncSession, client: Client) -> None:
    session.add(client)
    await session.flush()
    await session.refresh(client)


async def add_secret(session: AsyncSession, *, client_id: str, secret_hash: str) -> None:
    session.add(ClientSecret(client_id=client_id, secret_hash=secret_hash))
    await session.flush()


async def valid_secrets(session: AsyncSession, client_id: str, now: datetime) -> list[ClientSecret]:
    """Secrets still accepted, newest first (the one a client most likely uses)."""
    rows = await session.execute(
        select(ClientSecret)
        .where(
            ClientSecret.client_id == client_id,
            or_(ClientSecret.expires_at.is_(None), ClientSecret.expires_at > now),
        )
        .order_by(ClientSecret.id.desc())
    )
    return list(rows.scalars())


async def expire_secrets(session: AsyncSession, client_id: str, *, at: datetime) -> None:
    """Every secret of the client stops working at ``at`` (unless it already stops sooner)."""
    await session.execute(
        update(ClientSecret)
        .where(
            ClientSecret.client_id == client_id,
            or_(ClientSecret.expires_at.is_(None), ClientSecret.expires_at > at),
        )
        .values(expires_at=at)
    )


async def replace_hash(session: AsyncSession, secret_id: int, secret_hash: str) -> None:
    await session.execute(
        update(ClientSecret).where(ClientSecret.id == secret_id).values(secret_hash=secret_hash)
    )


async def page(
    session: AsyncSession,
    *,
    after: str | None,
    limit: int,
    role: str | None,
    include_revoked: bool,
) -> Sequence[Client]:
    """Keyset pagination on the primary key: stable under concurrent inserts."""
    query = select(Client).order_by(Client.client_id).limit(limit)
    if after is not None:
        query = query.where(Client.client_id > after)
    if role is not None:
        query = query.where(Client.role == role)
    if not include_revoked:
        query = query.where(Client.revoked_at.is_(None))
    return (await session.execute(query)).scalars().all()


async def policy_snapshot(
    session: AsyncSession, *, revoked_since: datetime
) -> tuple[set[str], dict[str, int], dict[str, int]]:
    """Clients revoked recently enough to still hold unexpired tokens, rate overrides, and
    the generation of clients whose authority changed as recently."""
    revoked = await session.execute(
        select(Client.client_id).where(Client.revoked_at >= revoked_since)
    )
    overrides = await session.execute(
        select(Client.client_id, Client.rate_limit_per_minute).where(
            Client.rate_limit_per_minute.is_not(None), Client.revoked_at.is_(None)
        )
    )
    generations = await session.execute(
        select(Client.client_id, Client.generation).where(
            Client.authority_changed_at >= revoked_since
        )
    )
    return (
        set(revoked.scalars()),
        {cid: int(rate) for cid, rate in overrides.all() if rate is not None},
        {cid: int(generation) for cid, generation in generations.all()},
    )
