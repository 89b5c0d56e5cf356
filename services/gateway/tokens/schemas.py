"""Request and response bodies of the token endpoint and of signing-key administration."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from services.gateway.http.bodies import Schema


class TokenResponse(Schema):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str


class SigningKeyRead(Schema):
    kid: str
    algorithm: str
    signing: bool
    created_at: datetime


class SigningKeyRotated(Schema):
    signing: SigningKeyRead
    retired: list[str] = Field(description="Key ids removed: every token they signed expired")


class SigningKeyWithdrawal(Schema):
    withdrawn: str = Field(description="The key id removed from the JWKS; its tokens are refused")
    signing: SigningKeyRead = Field(description="The key that signs from now on")
