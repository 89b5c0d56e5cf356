"""Request and response bodies of the client registry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from services.gateway.clients.models import Client
from services.gateway.http.bodies import Schema
from shared.strict_types import WHOLE

# One vocabulary for every service: the funding workflow's roles (applicant, instructor,
# programme_officer, committee, regional_admin, territorial_partner) are among them.
Role = Literal[
    "partner_app",
    "currency_operator",
    "member_wallet",
    "merchant_terminal",
    "applicant",
    "instructor",
    "programme_officer",
    "territorial_accompanist",
    "territorial_partner",
    "committee",
    "expert",
    "dashboard",
    "regional_admin",
    "admin",
]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: said in the document too
ClientId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]
Scope = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*(:[a-z0-9_-]+)*$", max_length=100)
]
TenantValue = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,99})$")]
TenantList = Annotated[list[TenantValue], Field(max_length=1000)]


class TenantBindings(Schema):
    """Which tenants a client may touch; ``"*"`` means all of that kind, empty means none."""

    currencies: TenantList = Field(default_factory=list)
    programmes: TenantList = Field(default_factory=list)
    envelopes: TenantList = Field(default_factory=list)
    territories: TenantList = Field(default_factory=list)


class ClientCreate(Schema):
    client_id: ClientId
    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=200, strip_whitespace=True, pattern=NO_NUL),
    ]
    role: Role
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=100)]
    tenants: TenantBindings = Field(default_factory=TenantBindings)
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=1_000_000), WHOLE] | None = None


class ClientUpdate(Schema):
    """Only the fields present change. Tokens already issued keep their claims until they
    expire (at most the token lifetime)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)] | None = (
        None
    )
    role: Role | None = None
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=100)] | None = None
    tenants: TenantBindings | None = None
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=1_000_000), WHOLE] | None = None


class ClientRead(Schema):
    client_id: str
    name: str
    role: str
    scopes: list[str]
    tenants: TenantBindings
    rate_limit_per_minute: int | None
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None

    @classmethod
    def of(cls, client: Client) -> ClientRead:
        return cls(
            client_id=client.client_id,
            name=client.name,
            role=client.role,
            scopes=list(client.scopes),
            tenants=TenantBindings(
                currencies=list(client.currencies),
                programmes=list(client.programmes),
                envelopes=list(client.envelopes),
                territories=list(client.territories),
            ),
            rate_limit_per_minute=client.rate_limit_per_minute,
            created_at=client.created_at,
            updated_at=client.updated_at,
            revoked_at=client.revoked_at,
            revoked_reason=client.revoked_reason,
        )


class ClientCreated(ClientRead):
    client_secret: str = Field(description="Shown once: only its argon2id hash is stored")


class ClientPage(Schema):
    items: list[ClientRead]
    next_cursor: str | None = Field(description="Pass as ?cursor= to get the next page")


class SecretRotate(Schema):
    grace_period_s: Annotated[int, Field(ge=0, le=30 * 86_400), WHOLE] | None = Field(
        default=None, description="How long the previous secrets keep working (default: 24 h)"
    )


class SecretRotated(Schema):
    client_id: str
    client_secret: str = Field(description="Shown once")
    previous_secrets_expire_at: datetime


class ClientRevoke(Schema):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]
