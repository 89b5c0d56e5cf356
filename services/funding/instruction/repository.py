"""Queries of the instruction of a file beyond the generic base (whose `page_of_file`
pages its opinions, annotations, messages and documents)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db.repository import get
from services.funding.instruction.models import Document


async def document(session: AsyncSession, document_id: uuid.UUID) -> Document:
    return await get(session, Document, document_id)
