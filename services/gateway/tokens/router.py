"""``POST /oauth/token`` (RFC 6749 client credentials), the JWKS, and signing-key admin."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import JSONResponse

from services.gateway.http.components import (
    AuthFailures,
    Hasher,
    Keys,
    SessionFactory,
    Settings,
)
from services.gateway.http.scopes import Admin
from services.gateway.tokens import service
from services.gateway.tokens.errors import (
    InvalidClient,
    InvalidRequest,
    KeyRotationUnavailable,
    SigningKeyNotFound,
    TokenEndpointBusy,
    TooManyFailures,
    UnsupportedGrantType,
)
from services.gateway.tokens.keys import SigningKey
from services.gateway.tokens.schemas import (
    SigningKeyRead,
    SigningKeyRotated,
    SigningKeyWithdrawal,
    TokenResponse,
)
from shared.problems import (
    FORM_BODY,
    Forbidden,
    Unauthorized,
    UnsupportedMediaType,
    problem_responses,
)
from shared.service_app import DbSession

router = APIRouter(tags=["oauth"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The form as RFC 6749 § 4.4.2 defines it: FastAPI would document every field as an
# optional string, and a client could not tell from the document that only the
# client-credentials grant exists. The credentials may come as HTTP Basic instead.
TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_BODY: {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {
                            "type": "string",
                            "description": "With client_secret, unless sent as HTTP Basic",
                        },
                        "client_secret": {"type": "string"},
                        "scope": {
                            "type": "string",
                            "description": "Space-separated subset of the client's scopes",
                        },
                    },
                }
            }
        },
    }
}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: Basic base64(urlencode(id) ":" urlencode(secret))."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClient("malformed Basic credentials") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("malformed Basic credentials")
    return unquote(client_id), unquote(secret)


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    responses=problem_responses(
        InvalidRequest,
        InvalidClient,
        TooManyFailures,
        TokenEndpointBusy,
        UnsupportedMediaType,
    ),
    summary="Get an access token (OAuth2 client credentials)",
    openapi_extra=TOKEN_FORM,
)
async def token(
    request: Request,
    hasher: Hasher,
    ring: Keys,
    settings: Settings,
    session_factory: SessionFactory,
    failures: AuthFailures,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form(description="Space-separated subset of the client's")] = None,
) -> JSONResponse:
    """Authenticate with client_secret_post or HTTP Basic; returns a short-lived ES256 JWT.

    Failed authentications are limited per client id and per address (429 with
    Retry-After); when too many secrets are being checked at once, 503 with Retry-After."""
    sent = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if sent != FORM_BODY:
        raise UnsupportedMediaType(
            f"/oauth/token reads a form ({FORM_BODY}), not {sent or 'a body without type'}",
            expected=FORM_BODY,
        )
    if grant_type is None:
        raise InvalidRequest("grant_type is required")
    if grant_type != "client_credentials":
        raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported")
    basic = _basic_credentials(request)
    if basic is not None and (client_id or client_secret):
        raise InvalidRequest("use one client authentication method, not two")
    if basic is None:
        if not client_id or not client_secret:
            raise InvalidClient("client_id and client_secret are required")
        basic = (client_id, client_secret)
    issued = await service.grant_token(
        session_factory=session_factory,
        hasher=hasher,
        failures=failures,
        ring=ring,
        client_id=basic[0],
        secret=basic[1],
        address=request.client.host if request.client else "unknown",
        scope=scope,
        ttl_s=settings.token_ttl_s,
    )
    body = TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@router.get("/.well-known/jwks.json", summary="Public keys that verify gateway tokens")
async def jwks(ring: Keys) -> JSONResponse:
    """Every published key (the signing one and those whose tokens may still be valid)."""
    return JSONResponse(ring.jwks(), headers={"Cache-Control": "public, max-age=60"})


admin_router = APIRouter(
    prefix="/admin/signing-keys",
    tags=["signing keys"],
    responses=problem_responses(Unauthorized, Forbidden),
)


def _read(key: SigningKey, signing: bool) -> SigningKeyRead:
    return SigningKeyRead(
        kid=key.kid,
        algorithm=key.algorithm,
        signing=signing,
        created_at=datetime.fromtimestamp(key.created, UTC),
    )


@admin_router.get("", response_model=list[SigningKeyRead])
async def list_signing_keys(ring: Keys, _: Admin) -> list[SigningKeyRead]:
    """Published keys, the signing one first."""
    return [_read(key, i == 0) for i, key in enumerate(ring.keys)]


@admin_router.post(
    "/rotate",
    status_code=status.HTTP_201_CREATED,
    response_model=SigningKeyRotated,
    responses=problem_responses(KeyRotationUnavailable),
)
async def rotate_signing_key(ring: Keys, session: DbSession, _: Admin) -> SigningKeyRotated:
    """Sign new tokens with a new key; older keys stay published until their tokens expire.
    Services fetch the new key set at once (``proxima.gateway.signing_key.rotated.v1``)."""
    key, retired = await service.rotate_signing_key(session, ring)
    return SigningKeyRotated(signing=_read(key, True), retired=retired)


@admin_router.post(
    "/{kid}/withdraw",
    response_model=SigningKeyWithdrawal,
    responses=problem_responses(KeyRotationUnavailable, SigningKeyNotFound),
)
async def withdraw_signing_key(
    kid: str, ring: Keys, session: DbSession, _: Admin
) -> SigningKeyWithdrawal:
    """Remove a key at once (it leaked): it leaves the JWKS and every token it signed is
    refused, by the gateway now and by every service within seconds
    (``proxima.gateway.signing_key.withdrawn.v1``), cached verifications included. If it
    was signing, a new key signs from now on; clients holding its tokens ask for new ones."""
    signing = await service.withdraw_signing_key(session, ring, kid)
    return SigningKeyWithdrawal(withdrawn=kid, signing=_read(signing, True))
