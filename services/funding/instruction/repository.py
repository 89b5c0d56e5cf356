"""Every query of the instruction of a file: opinions, annotations, messages, documents."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db.repository import Page, get, paginate
from services.funding.instruction.models import Annotation, Document, Message, Opinion


async def opinions_page(
    session: AsyncSession,
    application_id: uuid.UUID,
    *,
    with_confidential: bool,
    cursor: uuid.UUID | None,
    limit: int,
) -> Page:
    """The file's opinions, the confidential ones only ``with_confidential``."""
    statement = select(Opinion).where(Opinion.application_id == application_id)
    if not with_confidential:
        statement = statement.where(Opinion.confidential.is_(False))
    return await paginate(session, statement, key=Opinion.id, cursor=cursor, limit=limit)


async def annotations_page(
    session: AsyncSession, application_id: uuid.UUID, *, cursor: uuid.UUID | None, limit: int
) -> Page:
    statement = select(Annotation).where(Annotation.application_id == application_id)
    return await paginate(session, statement, key=Annotation.id, cursor=cursor, limit=limit)


async def messages_page(
    session: AsyncSession, application_id: uuid.UUID, *, cursor: uuid.UUID | None, limit: int
) -> Page:
    statement = select(Message).where(Message.application_id == application_id)
    return await paginate(session, statement, key=Message.id, cursor=cursor, limit=limit)


async def documents_page(
    session: AsyncSession, application_id: uuid.UUID, *, cursor: uuid.UUID | None, limit: int
) -> Page:
    statement = select(Document).where(Document.application_id == application_id)
    return await paginate(session, statement, key=Document.id, cursor=cursor, limit=limit)


async def document(session: AsyncSession, document_id: uuid.UUID) -> Document:
    return await get(session, Document, document_id)
