"""Errors of the client registry and the token endpoint.

Token endpoint errors are problem+json documents that ALSO carry RFC 6749's ``error`` and
``error_description`` members, so generic OAuth2 client libraries understand them.
"""

from __future__ import annotations

from typing import Any

from shared.problems import Conflict, NotFound, Problem


class OAuthProblem(Problem):
    oauth_error = "invalid_request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(
            detail, error=self.oauth_error, error_description=detail or self.title, **extra
        )


class InvalidRequest(OAuthProblem):
    status, code, title = 400, "invalid-request", "Invalid token request"
    oauth_error = "invalid_request"


class InvalidClient(OAuthProblem):
    status, code, title = 401, "invalid-client", "Client authentication failed"
    oauth_error = "invalid_client"


class UnsupportedGrantType(OAuthProblem):
    status, code, title, oauth_error = (
        400,
        "unsupported-grant-type",
        "Unsupported grant type",
        "unsupported_grant_type",
    )


class TooManyFailures(OAuthProblem):
    status, code, title = 429, "too-many-failures", "Too many failed authentications"
    oauth_error = "invalid_client"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_s)}


class TokenEndpointBusy(OAuthProblem):
    status, code, title = 503, "token-endpoint-busy", "Too many token requests at once"
    oauth_error = "temporarily_unavailable"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_s)}


class InvalidScope(OAuthProblem):
    status, code, title, oauth_error = 400, "invalid-scope", "Scope not granted", "invalid_scope"


class ClientNotFound(NotFound):
    code, title = "client-not-found", "No such client"


class ClientExists(Conflict):
    code, title = "client-exists", "A client with this id already exists"


class ClientRevoked(Conflict):
    code, title = "client-revoked", "The client is revoked"


class KeyRotationUnavailable(Conflict):
    code, title = "key-rotation-unavailable", "Signing keys are managed outside the gateway"


class SigningKeyNotFound(NotFound):
    code, title = "signing-key-not-found", "No such signing key"
