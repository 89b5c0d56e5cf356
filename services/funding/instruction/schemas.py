"""Bodies of the instruction of a file: opinions, notes, messages, documents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from services.funding.http.fields import LongText, Name, Schema


class OpinionCreate(Schema):
    expert: Name
    verdict: Literal["favourable", "unfavourable", "reserved"]
    body: LongText
    confidential: bool = False


class OpinionRead(Schema):
    id: uuid.UUID
    expert: str
    verdict: str
    body: str
    confidential: bool
    created_at: datetime


class NoteCreate(Schema):
    body: LongText


class AnnotationRead(Schema):
    id: uuid.UUID
    author_client_id: str
    body: str
    created_at: datetime


class MessageRead(Schema):
    id: uuid.UUID
    author_client_id: str
    author_role: str
    body: str
    created_at: datetime


class DocumentCreate(Schema):
    filename: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,199}$")]
    content_type: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]{1,80}$")]
    content_base64: Annotated[str, StringConstraints(max_length=7_000_000)]


class DocumentRead(Schema):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    created_at: datetime
