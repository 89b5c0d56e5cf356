"""Errors of the client registry."""

from __future__ import annotations

from services.gateway.errors import GatewayError


class ClientNotFound(GatewayError):
    status, code, title = 404, "client-not-found", "No such client"


class ClientExists(GatewayError):
    status, code, title = 409, "client-exists", "A client with this id already exists"


class ClientRevoked(GatewayError):
    status, code, title = 409, "client-revoked", "The client is revoked"
