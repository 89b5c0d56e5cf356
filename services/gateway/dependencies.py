"""Typed access to the gateway's process-wide components, kept on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.gateway.clients.hashing import SecretHasher
from services.gateway.clients.policy import ClientPolicy
from services.gateway.settings import GatewaySettings
from services.gateway.tokens.keys import KeyRing


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def _hasher(request: Request) -> SecretHasher:
    hasher: SecretHasher = request.app.state.secret_hasher
    return hasher


def _key_ring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.key_ring
    return ring


def _policy(request: Request) -> ClientPolicy:
    policy: ClientPolicy = request.app.state.client_policy
    return policy


Settings = Annotated[GatewaySettings, Depends(_settings)]
Hasher = Annotated[SecretHasher, Depends(_hasher)]
Keys = Annotated[KeyRing, Depends(_key_ring)]
Policy = Annotated[ClientPolicy, Depends(_policy)]
