"""Request and response bodies of the public directory."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from services.ledger.http.schemas import CODE, Out, Schema, Text

Day = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]
Category = Literal[
    "alimentation",
    "restauration",
    "commerce",
    "artisanat",
    "services",
    "culture-loisirs",
    "sante-bien-etre",
    "producteur",
    "association",
    "autre",
]
ClockTime = Annotated[str, Field(pattern=r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")]
CurrencyCode = Annotated[str, Field(pattern=CODE)]


class OpeningSlot(Schema):
    """One opening span of a day, in local (Europe/Paris) time."""

    day: Day
    opens: ClockTime
    closes: ClockTime

    @model_validator(mode="after")
    def _closes_after_opening(self) -> OpeningSlot:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class ListingProfile(Schema):
    """What the operator curates and the public sees."""

    name: Text = Field(min_length=1, max_length=200)
    category: Category
    address: Text = Field(min_length=1, max_length=300)
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    currencies: list[CurrencyCode] = Field(min_length=1, max_length=20)
    opening_hours: list[OpeningSlot] = Field(default_factory=list, max_length=50)


class Consent(Schema):
    """The business's consent to be listed: who gave it for the business, and when."""

    given_by: Text = Field(min_length=1, max_length=200)
    given_at: AwareDatetime


class ListingCreate(ListingProfile):
    account_id: UUID = Field(description="The business's merchant account (never a member's)")
    consent: Consent


class ListingRead(Out):
    """The operator's view: the profile, its consent record and its status."""

    id: UUID
    account_id: UUID | None
    status: Literal["listed", "withdrawn"]
    category: str
    currencies: list[str]
    name: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    opening_hours: list[dict[str, Any]] | None
    consent_given_by: str | None
    consent_given_at: datetime | None
    consent_recorded_by: str | None
    withdrawn_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PublicListing(Out):
    """A listed business as anyone may read it."""

    id: UUID
    name: str
    category: str
    address: str
    latitude: float
    longitude: float
    currencies: list[str]
    opening_hours: list[OpeningSlot]
    updated_at: datetime


class PublicDirectoryPage(Out):
    items: list[PublicListing]
    next_cursor: str | None
