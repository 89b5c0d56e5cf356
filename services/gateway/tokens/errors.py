"""Errors of the token endpoint and of signing-key administration.

Token endpoint errors are problem+json documents that ALSO carry RFC 6749's ``error`` and
``error_description`` members, so generic OAuth2 client libraries understand them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from services.gateway.errors import GatewayError


class OAuthError(GatewayError):
    oauth_error: ClassVar[str] = "invalid_request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(
            detail, error=self.oauth_error, error_description=detail or self.title, **extra
        )


class InvalidRequest(OAuthError):
    status, code, title = 400, "invalid-request", "Invalid token request"
    oauth_error = "invalid_request"


class InvalidClient(OAuthError):
    status, code, title = 401, "invalid-client", "Client authentication failed"
    oauth_error = "invalid_client"


class UnsupportedGrantType(OAuthError):
    status, code, title, oauth_error = (
        400,
        "unsupported-grant-type",
        "Unsupported grant type",
        "unsupported_grant_type",
    )


class TooManyFailures(OAuthError):
    status, code, title = 429, "too-many-failures", "Too many failed authentications"
    oauth_error = "invalid_client"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class TokenEndpointBusy(OAuthError):
    status, code, title = 503, "token-endpoint-busy", "Too many token requests at once"
    oauth_error = "temporarily_unavailable"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class InvalidScope(OAuthError):
    status, code, title, oauth_error = 400, "invalid-scope", "Scope not granted", "invalid_scope"


class KeyRotationUnavailable(GatewayError):
    status, code = 409, "key-rotation-unavailable"
    title = "Signing keys are managed outside the gateway"


class SigningKeyNotFound(GatewayError):
    status, code, title = 404, "signing-key-not-found", "No such signing key"
