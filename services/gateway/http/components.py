"""The gateway's process-wide components, kept on ``app.state`` by `create_app`, as typed
FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.gateway.clients.hashing import SecretHasher
from services.gateway.clients.policy import ClientPolicy
from services.gateway.settings import GatewaySettings
from services.gateway.stream.hub import StreamHub
from services.gateway.tokens.failures import AuthFailureLimiter
from services.gateway.tokens.keys import KeyRing
from services.gateway.tokens.verifier import GatewayTokenVerifier


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


def _session_factory(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return factory


def _hasher(request: Request) -> SecretHasher:
    hasher: SecretHasher = request.app.state.secret_hasher
    return hasher


def _key_ring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.key_ring
    return ring


def _policy(request: Request) -> ClientPolicy:
    policy: ClientPolicy = request.app.state.client_policy
    return policy


def _auth_failures(request: Request) -> AuthFailureLimiter:
    failures: AuthFailureLimiter = request.app.state.auth_failures
    return failures


def _token_verifier(request: Request) -> GatewayTokenVerifier:
    verifier: GatewayTokenVerifier = request.app.state.token_verifier
    return verifier


def _stream_hub(request: Request) -> StreamHub:
    hub: StreamHub = request.app.state.stream_hub
    return hub


Settings = Annotated[GatewaySettings, Depends(_settings)]
Engine = Annotated[AsyncEngine, Depends(_engine)]
SessionFactory = Annotated[async_sessionmaker[AsyncSession], Depends(_session_factory)]
Hasher = Annotated[SecretHasher, Depends(_hasher)]
Keys = Annotated[KeyRing, Depends(_key_ring)]
Policy = Annotated[ClientPolicy, Depends(_policy)]
AuthFailures = Annotated[AuthFailureLimiter, Depends(_auth_failures)]
Verifier = Annotated[GatewayTokenVerifier, Depends(_token_verifier)]
Hub = Annotated[StreamHub, Depends(_stream_hub)]
