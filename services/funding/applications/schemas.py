"""Bodies of applications, their workflow transitions and their audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

# The workflow states, as the list of applications filters them.
from services.funding.applications.rules.workflow import ApplicationState as ApplicationState
from services.funding.http.fields import Cents, CommuneCode, EnvelopeCode, LongText, Name, Schema
from services.funding.programmes.rules.eligibility import LegalForm, ProjectStage

FieldValue = LongText | Annotated[int, Field(ge=-(10**13), le=10**13)] | bool
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,39}$")]


class ApplicationCreate(Schema):
    envelope_code: EnvelopeCode
    call_id: uuid.UUID | None = None
    applicant_name: Name
    legal_form: LegalForm
    project_stage: ProjectStage
    title: Name
    commune_insee_code: CommuneCode
    requested_amount_cents: Cents


class ApplicationRead(Schema):
    id: uuid.UUID
    programme_id: uuid.UUID
    envelope_id: uuid.UUID
    call_id: uuid.UUID | None
    applicant_client_id: str
    applicant_name: str
    legal_form: str
    project_stage: str
    title: str
    commune_insee_code: str
    territory: str
    requested_amount_cents: int
    granted_amount_cents: int | None
    paid_cents: int
    state: str
    instructor_id: str | None
    convention_reference: str | None
    created_at: datetime
    updated_at: datetime


class TransitionCreate(Schema):
    action: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
    # Only names matching the pattern: said in the document too (no other key is valid).
    fields: dict[FieldName, FieldValue] = Field(
        default_factory=dict, max_length=20, json_schema_extra={"additionalProperties": False}
    )


class TransitionRead(Schema):
    sequence: int
    actor_client_id: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str
    fields: dict[str, object]
    at: datetime
    previous_hash: str
    hash: str


class AuditRead(Schema):
    """Whether the application's hash chain still verifies."""

    application_id: uuid.UUID
    entries: int
    chain_valid: bool
    head_hash: str | None
