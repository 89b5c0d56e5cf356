"""Events the gateway publishes about who may still use a token. Every service follows
them in every process (`shared.auth_events`): a revoked client, a client whose authority
changed, a withdrawn signing key are refused everywhere within seconds, not when cached
verifications and key sets happen to expire."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.events.registry import EventPayload, event_type

ClientChange = Literal["revoked", "role", "scopes", "tenants"]


@event_type("proxima.gateway.client.changed.v1")
class ClientChanged(EventPayload):
    """A client was revoked, or its scopes, tenant bindings or role changed: tokens it
    obtained before no longer hold. A revoked client's tokens are all refused; otherwise
    tokens whose ``cgen`` claim is below ``generation`` are."""

    client_id: str = Field(min_length=1, max_length=64)
    changes: list[ClientChange] = Field(min_length=1)
    generation: int = Field(ge=0, description="The client's authority generation from now on")
    revoked: bool
    changed_at: datetime
    tokens_expire_by: datetime = Field(
        description="Every token issued before the change has expired by then: the entry "
        "can be forgotten"
    )


@event_type("proxima.gateway.signing_key.withdrawn.v1")
class SigningKeyWithdrawn(EventPayload):
    """A signing key left the JWKS: tokens naming its ``kid`` are refused from now on,
    including those already verified and cached. ``reason`` is ``withdrawn`` (an operator
    removed it, e.g. it leaked) or ``retired`` (every token it signed had expired)."""

    kid: str = Field(min_length=1, max_length=200)
    reason: Literal["withdrawn", "retired"]
    withdrawn_at: datetime


@event_type("proxima.gateway.signing_key.rotated.v1")
class SigningKeyRotated(EventPayload):
    """A new key signs from now on; ``retired`` keys left the JWKS (their tokens had all
    expired). Services refresh their copy of the JWKS."""

    kid: str = Field(min_length=1, max_length=200, description="The new signing key")
    retired: list[str] = Field(default_factory=list)
    rotated_at: datetime
