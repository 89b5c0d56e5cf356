"""Use cases of the client registry. They only flush: the request commits. A change this
replica makes reaches its own `ClientPolicy` at once, the other replicas' on their next
refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.clients import events, repository
from services.gateway.clients.errors import ClientExists, ClientNotFound, ClientRevoked
from services.gateway.clients.hashing import SecretHasher, new_secret
from services.gateway.clients.models import Client
from services.gateway.clients.policy import ClientPolicy
from services.gateway.clients.schemas import ClientCreate, ClientUpdate
from services.gateway.tokens.errors import InvalidClient
from shared.auth import ADMIN_SCOPE
from shared.events.catalog.gateway import ClientChange

BOOTSTRAP_ADMIN_ID = "admin"


def _now() -> datetime:
    return datetime.now(UTC)


async def create_client(
    session: AsyncSession, *, hasher: SecretHasher, policy: ClientPolicy, data: ClientCreate
) -> tuple[Client, str]:
    """Register a client and return it with its first secret (never stored in clear)."""
    if await repository.get(session, data.client_id) is not None:
        raise ClientExists(f"client {data.client_id!r} already exists")
    client = Client(
        client_id=data.client_id,
        name=data.name,
        role=data.role,
        scopes=sorted(set(data.scopes)),
        rate_limit_per_minute=data.rate_limit_per_minute,
        **_tenant_columns(data.tenants.model_dump()),
    )
    await repository.add(session, client)
    secret = new_secret()
    await repository.add_secret(
        session, client_id=client.client_id, secret_hash=await hasher.hash(secret)
    )
    policy.set_rate_limit(client.client_id, client.rate_limit_per_minute)
    return client, secret


def _tenant_columns(tenants: dict[str, list[str]]) -> dict[str, list[str]]:
    return {kind: sorted(set(values)) for kind, values in tenants.items()}


async def get_client(session: AsyncSession, client_id: str, *, for_update: bool = False) -> Client:
    client = await repository.get(session, client_id, for_update=for_update)
    if client is None:
        raise ClientNotFound(f"no client {client_id!r}")
    return client


async def list_clients(
    session: AsyncSession,
    *,
    after: str | None,
    limit: int,
    role: str | None,
    include_revoked: bool,
) -> tuple[list[Client], str | None]:
    """One page of clients by id, and the cursor of the next page (None after the last)."""
    rows = await repository.page(
        session, after=after, limit=limit + 1, role=role, include_revoked=include_revoked
    )
    clients = list(rows[:limit])
    return clients, clients[-1].client_id if len(rows) > limit else None


async def update_client(
    session: AsyncSession,
    client_id: str,
    changes: ClientUpdate,
    *,
    policy: ClientPolicy,
    token_ttl_s: int,
) -> Client:
    """Apply the changes; a change of role, scopes or tenant bindings starts a new authority
    generation: tokens issued before are refused (here and, through the event, in every
    service), the client asks for a new one carrying the new claims."""
    client = await get_client(session, client_id, for_update=True)
    if client.revoked_at is not None:
        raise ClientRevoked(f"client {client_id!r} is revoked")
    fields = changes.model_fields_set
    authority: list[ClientChange] = []
    if "name" in fields and changes.name is not None:
        client.name = changes.name
    if "role" in fields and changes.role is not None and changes.role != client.role:
        client.role = changes.role
        authority.append("role")
    if "scopes" in fields and changes.scopes is not None:
        scopes = sorted(set(changes.scopes))
        if scopes != sorted(client.scopes):
            client.scopes = scopes
            authority.append("scopes")
    if "tenants" in fields and changes.tenants is not None:
        for kind, values in _tenant_columns(changes.tenants.model_dump()).items():
            if values != sorted(getattr(client, kind)):
                setattr(client, kind, values)
                if "tenants" not in authority:
                    authority.append("tenants")
    if "rate_limit_per_minute" in fields:
        client.rate_limit_per_minute = changes.rate_limit_per_minute
    now = _now()
    client.updated_at = now
    if authority:
        client.generation += 1
        client.authority_changed_at = now
        await events.client_changed(
            session,
            client_id=client_id,
            changes=authority,
            generation=client.generation,
            revoked=False,
            at=now,
            token_ttl_s=token_ttl_s,
        )
    await session.flush()
    policy.set_rate_limit(client.client_id, client.rate_limit_per_minute)
    policy.set_generation(client.client_id, client.generation)
    return client


async def authenticate(
    session_factory: async_sessionmaker[AsyncSession],
    hasher: SecretHasher,
    client_id: str,
    secret: str,
) -> Client:
    """The client whose id and secret these are; one vague error for every failure, so a
    caller cannot tell an unknown id from a wrong secret or a revoked client.

    The rows are read in a short transaction of their own, and the secret is checked after
    it: a request waiting for a hashing slot holds no pooled database connection."""
    async with session_factory() as session:
        client = await repository.get(session, client_id) if len(client_id) <= 64 else None
        stored = (
            []
            if client is None or client.revoked_at is not None
            else await repository.valid_secrets(session, client_id, _now())
        )
    if client is None or client.revoked_at is not None:
        await hasher.burn_time(secret)
        raise InvalidClient("unknown client, wrong secret or revoked client")
    for candidate in stored:
        if await hasher.verify(candidate.secret_hash, secret):
            if hasher.needs_rehash(candidate.secret_hash):
                new_hash = await hasher.hash(secret)
                async with session_factory() as session, session.begin():
                    await repository.replace_hash(session, candidate.id, new_hash)
            return client
    raise InvalidClient("unknown client, wrong secret or revoked client")


async def rotate_secret(
    session: AsyncSession, client_id: str, *, hasher: SecretHasher, grace_s: int
) -> tuple[str, datetime]:
    """A new secret; the previous ones keep working for ``grace_s`` seconds."""
    client = await get_client(session, client_id, for_update=True)
    if client.revoked_at is not None:
        raise ClientRevoked(f"client {client_id!r} is revoked")
    expires_at = _now() + timedelta(seconds=grace_s)
    await repository.expire_secrets(session, client_id, at=expires_at)
    secret = new_secret()
    await repository.add_secret(session, client_id=client_id, secret_hash=await hasher.hash(secret))
    client.updated_at = _now()
    await session.flush()
    return secret, expires_at


async def revoke_client(
    session: AsyncSession, client_id: str, *, policy: ClientPolicy, reason: str, token_ttl_s: int
) -> Client:
    """Final: the client can no longer get tokens, and the tokens it holds are refused."""
    client = await get_client(session, client_id, for_update=True)
    if client.revoked_at is None:
        now = _now()
        client.revoked_at = now
        client.revoked_reason = reason
        client.updated_at = now
        await repository.expire_secrets(session, client_id, at=now)
        await events.client_changed(
            session,
            client_id=client_id,
            changes=["revoked"],
            generation=client.generation,
            revoked=True,
            at=now,
            token_ttl_s=token_ttl_s,
        )
        await session.flush()
    policy.mark_revoked(client_id)
    return client


async def ensure_bootstrap_admin(session: AsyncSession, hasher: SecretHasher, secret: str) -> str:
    """Create the ``admin`` client, with the configured secret, on the first start only.

    Applied once: once the client exists, the environment's secret is never added again,
    so an administrator who rotated the secret through the API (and let the old one
    expire) is not handed it back at the next restart, by whoever can read the
    deployment's environment. Returns what was done, for the log."""
    created = await session.execute(
        pg_insert(Client)
        .values(
            client_id=BOOTSTRAP_ADMIN_ID,
            name="Bootstrap administrator",
            role="admin",
            scopes=[ADMIN_SCOPE],
            currencies=["*"],
            programmes=["*"],
            envelopes=["*"],
            territories=["*"],
        )
        .on_conflict_do_nothing()
        .returning(Client.client_id)
    )
    if created.scalar_one_or_none() is None:
        return "exists"
    await repository.add_secret(
        session, client_id=BOOTSTRAP_ADMIN_ID, secret_hash=await hasher.hash(secret)
    )
    return "created"
