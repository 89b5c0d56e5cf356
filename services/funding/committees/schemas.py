"""Bodies of committee sessions: agenda, conflicts, attendance, votes, decisions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from services.funding.http.fields import (
    Cents,
    Code,
    Identifier,
    LongText,
    Moment,
    Name,
    Schema,
    ShortText,
)
from services.funding.instruments.schemas import InstrumentTerms


class SessionCreate(Schema):
    programme_code: Code
    title: Name
    scheduled_at: Moment
    members: list[Identifier] = Field(min_length=1, max_length=50)
    quorum: int | None = Field(default=None, ge=1, le=50)


class SessionRead(Schema):
    id: uuid.UUID
    programme_id: uuid.UUID
    title: str
    scheduled_at: datetime
    quorum: int
    status: str
    members: list[str]
    attendees: list[str]
    agenda: list[uuid.UUID]


class AgendaAdd(Schema):
    application_id: uuid.UUID


class ConflictCreate(Schema):
    application_id: uuid.UUID
    member_id: Identifier


class SessionOpen(Schema):
    attendees: list[Identifier] = Field(max_length=50)


class VoteCreate(Schema):
    application_id: uuid.UUID
    member_id: Identifier
    choice: Literal["for", "against", "abstain"]


class DecisionCreate(Schema):
    application_id: uuid.UUID
    outcome: Literal["approved", "rejected", "adjourned"]
    amount_cents: Cents | None = None
    deliberation_number: ShortText | None = None
    reason: LongText | None = None
    instrument: InstrumentTerms | None = Field(
        default=None,
        description="Approvals only: the instrument awarded instead of a grant and its terms "
        "(a loan's principal, a guarantee's cap, is amount_cents); none for a grant",
    )


class DecisionRead(Schema):
    id: uuid.UUID
    session_id: uuid.UUID
    application_id: uuid.UUID
    outcome: str
    amount_cents: int | None
    deliberation_number: str | None
    reason: str | None
    votes_for: int
    votes_against: int
    abstentions: int
    created_at: datetime
