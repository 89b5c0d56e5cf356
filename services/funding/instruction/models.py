"""Tables of the instruction of a file: opinions, annotations, messages, documents."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.funding.db.base import Base, now_on_insert, one_of, required_fk, uuid_pk


class Opinion(Base):
    """An expert opinion (avis) on an application; confidential ones stay with staff."""

    __tablename__ = "opinions"

    id: Mapped[uuid.UUID] = uuid_pk()
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    expert: Mapped[str] = mapped_column(String(200), nullable=False)
    verdict: Mapped[str] = mapped_column(String(20), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    confidential: Mapped[bool] = mapped_column(Boolean, nullable=False)
    author_client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        CheckConstraint(
            one_of("verdict", ("favourable", "unfavourable", "reserved")), name="verdict"
        ),
    )


class Annotation(Base):
    """A private note of the instructors on an application; never shown to the applicant."""

    __tablename__ = "annotations"

    id: Mapped[uuid.UUID] = uuid_pk()
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    author_client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = now_on_insert()


class Message(Base):
    """A message between the applicant and the instructors."""

    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = uuid_pk()
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    author_client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    author_role: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = now_on_insert()


class Document(Base):
    """Metadata of a document attached to an application; content lives in a blob store."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = uuid_pk()
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    )
