"""The gateway's process-wide components, kept on ``app.state`` by `create_app`, as typed
FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.gateway.clients.hashing import SecretHasher
from services.gateway.clients.policy import ClientPolicy
from services.gateway.settings import GatewaySettings
from services.gateway.stream.hub import StreamHub
from services.gateway.tokens.failures import AuthFailureLimiter
from services.gateway.tokens.keys import KeyRing
from services.gateway.tokens.verifier import GatewayTokenVerifier


def _state(name: str) -> Callable[[Request], Any]:
    """A dependency reading ``app.state.<name>`` at each request."""

    def component(request: Request) -> Any:
        return getattr(request.app.state, name)

    component.__name__ = name
    return component


Settings = Annotated[GatewaySettings, Depends(_state("settings"))]
Engine = Annotated[AsyncEngine, Depends(_state("engine"))]
SessionFactory = Annotated[async_sessionmaker[AsyncSession], Depends(_state("session_factory"))]
Hasher = Annotated[SecretHasher, Depends(_state("secret_hasher"))]
Keys = Annotated[KeyRing, Depends(_state("key_ring"))]
Policy = Annotated[ClientPolicy, Depends(_state("client_policy"))]
AuthFailures = Annotated[AuthFailureLimiter, Depends(_state("auth_failures"))]
Verifier = Annotated[GatewayTokenVerifier, Depends(_state("token_verifier"))]
Hub = Annotated[StreamHub, Depends(_state("stream_hub"))]
