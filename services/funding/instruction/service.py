"""Use cases of the instruction of a file: expert opinions, private annotations, messages
between the applicant and the staff, and attached documents."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.service import base as applications
from services.funding.db.repository import Page, Paging, add, page_of_file
from services.funding.instruction import repository
from services.funding.instruction.models import Annotation, Document, Message, Opinion
from services.funding.tenancy.roles import ensure_may_write_on_file, is_staff
from shared.auth import Principal
from shared.problems import Forbidden, NotFound, Unprocessable

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


class BlobStore(Protocol):
    """Content storage for attached documents."""

    async def put(self, content: bytes) -> str:
        """Store ``content`` and return its SHA-256 hex digest (its key)."""
        ...

    async def get(self, sha256: str) -> bytes | None:
        """The content stored under ``sha256``, or None."""
        ...


async def add_opinion(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, data: Any
) -> Opinion:
    await applications.load(session, principal, application_id)
    row = Opinion(
        application_id=application_id,
        expert=data.expert,
        verdict=data.verdict,
        body=data.body,
        confidential=data.confidential,
        author_client_id=principal.client_id,
    )
    await add(session, row)
    return row


async def add_annotation(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, data: Any
) -> Annotation:
    await applications.load(session, principal, application_id)
    row = Annotation(
        application_id=application_id, author_client_id=principal.client_id, body=data.body
    )
    await add(session, row)
    return row


async def post_message(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, data: Any
) -> Message:
    ensure_may_write_on_file(principal)
    await applications.load(session, principal, application_id)
    row = Message(
        application_id=application_id,
        author_client_id=principal.client_id,
        author_role=principal.role or "unknown",
        body=data.body,
    )
    await add(session, row)
    return row


async def attach_document(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    data: Any,
    *,
    blobs: BlobStore,
) -> Document:
    """Store the document's content (base64 in ``data``) and record it with its SHA-256."""
    ensure_may_write_on_file(principal)
    await applications.load(session, principal, application_id)
    try:
        content = base64.b64decode(data.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unprocessable("content_base64 is not valid base64") from exc
    if len(content) > MAX_DOCUMENT_BYTES:
        raise Unprocessable(f"documents are limited to {MAX_DOCUMENT_BYTES} bytes")
    digest = await blobs.put(content)
    row = Document(
        application_id=application_id,
        filename=data.filename,
        content_type=data.content_type,
        size_bytes=len(content),
        sha256=digest,
        uploaded_by=principal.client_id,
    )
    await add(session, row)
    return row


FileItems = Literal["opinions", "annotations", "messages", "documents"]
_MODELS: dict[str, type[Opinion | Annotation | Message | Document]] = {
    "opinions": Opinion,
    "annotations": Annotation,
    "messages": Message,
    "documents": Document,
}


async def read(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    items: FileItems,
    paging: Paging,
) -> Page:
    """One page of the file's opinions, annotations, messages or documents, oldest first,
    for whoever may see the file; annotations are for instruction staff only, and
    applicants only see the opinions not marked confidential."""
    await applications.load(session, principal, application_id)
    where: list[ColumnElement[bool]] = []
    if items == "annotations" and not is_staff(principal):
        raise Forbidden("annotations are for instruction staff only")
    if items == "opinions" and not is_staff(principal):
        where.append(Opinion.confidential.is_(False))
    return await page_of_file(session, _MODELS[items], application_id, paging, *where)


async def document_content(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID, *, blobs: BlobStore
) -> tuple[bytes, str]:
    """The document's bytes, verified against the recorded SHA-256, and its media type."""
    document = await repository.document(session, document_id)
    await applications.load(session, principal, document.application_id)
    content = await blobs.get(document.sha256)
    if content is None:
        raise NotFound("the document's content is missing or does not match its checksum")
    return content, document.content_type
