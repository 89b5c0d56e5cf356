"""Admin API of the client registry (scope ``admin``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.gateway.clients import service
from services.gateway.clients.errors import ClientExists, ClientNotFound, ClientRevoked
from services.gateway.clients.schemas import (
    ClientCreate,
    ClientCreated,
    ClientPage,
    ClientRead,
    ClientRevoke,
    ClientUpdate,
    Role,
    SecretRotate,
    SecretRotated,
)
from services.gateway.http.components import Hasher, Policy, Settings
from services.gateway.http.scopes import Admin
from shared.problems import Forbidden, Unauthorized, problem_responses
from shared.service_app import DbSession

router = APIRouter(
    prefix="/admin/clients",
    tags=["clients"],
    responses=problem_responses(Unauthorized, Forbidden),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ClientCreated,
    responses=problem_responses(ClientExists),
)
async def create_client(
    body: ClientCreate, session: DbSession, hasher: Hasher, policy: Policy, _: Admin
) -> ClientCreated:
    """Register a client; its secret is in this response only."""
    client, secret = await service.create_client(session, hasher=hasher, policy=policy, data=body)
    return ClientCreated(**ClientRead.of(client).model_dump(), client_secret=secret)


@router.get("", response_model=ClientPage)
async def list_clients(
    session: DbSession,
    _: Admin,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    role: Role | None = None,
    include_revoked: bool = False,
) -> ClientPage:
    """List clients by id, one page at a time."""
    clients, next_cursor = await service.list_clients(
        session, after=cursor, limit=limit, role=role, include_revoked=include_revoked
    )
    return ClientPage(items=[ClientRead.of(c) for c in clients], next_cursor=next_cursor)


@router.get("/{client_id}", response_model=ClientRead, responses=problem_responses(ClientNotFound))
async def get_client(client_id: str, session: DbSession, _: Admin) -> ClientRead:
    """One client (never its secrets)."""
    return ClientRead.of(await service.get_client(session, client_id))


@router.patch(
    "/{client_id}",
    response_model=ClientRead,
    responses=problem_responses(ClientNotFound, ClientRevoked),
)
async def update_client(
    client_id: str,
    body: ClientUpdate,
    session: DbSession,
    policy: Policy,
    settings: Settings,
    _: Admin,
) -> ClientRead:
    """Change scopes, tenant bindings, role, name or rate limit; new tokens carry them. A
    change of scopes, tenants or role makes the client's earlier tokens invalid, at the
    gateway at once and in every service within seconds."""
    client = await service.update_client(
        session, client_id, body, policy=policy, token_ttl_s=settings.token_ttl_s
    )
    return ClientRead.of(client)


@router.post(
    "/{client_id}/rotate-secret",
    response_model=SecretRotated,
    responses=problem_responses(ClientNotFound, ClientRevoked),
)
async def rotate_secret(
    client_id: str,
    session: DbSession,
    hasher: Hasher,
    settings: Settings,
    _: Admin,
    body: SecretRotate | None = None,
) -> SecretRotated:
    """Issue a new secret; the previous ones keep working for a grace period."""
    grace = settings.secret_grace_period_s
    if body is not None and body.grace_period_s is not None:
        grace = body.grace_period_s
    secret, expires_at = await service.rotate_secret(
        session, client_id, hasher=hasher, grace_s=grace
    )
    return SecretRotated(
        client_id=client_id, client_secret=secret, previous_secrets_expire_at=expires_at
    )


@router.post(
    "/{client_id}/revoke", response_model=ClientRead, responses=problem_responses(ClientNotFound)
)
async def revoke_client(
    client_id: str,
    body: ClientRevoke,
    session: DbSession,
    policy: Policy,
    settings: Settings,
    _: Admin,
) -> ClientRead:
    """Revoke for good: no new token, and tokens already issued are refused, by the gateway
    at once and by every service within seconds (``proxima.gateway.client.changed.v1``)."""
    client = await service.revoke_client(
        session, client_id, policy=policy, reason=body.reason, token_ttl_s=settings.token_ttl_s
    )
    return ClientRead.of(client)
