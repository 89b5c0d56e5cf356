"""Instruction of a file: expert opinions, private annotations, messages, documents."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from services.funding.api.dependencies import Blobs, Instructor, PageParams, Reader, errors
from services.funding.api.schemas import (
    AnnotationRead,
    DocumentCreate,
    DocumentRead,
    MessageRead,
    NoteCreate,
    OpinionCreate,
    OpinionRead,
    Page,
)
from services.funding.service import access, applications
from services.funding.store import repository
from services.funding.store.models import Annotation, Document, Message, Opinion
from shared.problems import Forbidden, NotFound, Unprocessable
from shared.service_app import DbSession

router = APIRouter(tags=["instruction"])

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def _page(rows: Any, cursor: str | None, schema: Any) -> dict[str, Any]:
    return {"items": [schema.model_validate(r) for r in rows], "next_cursor": cursor}


@router.post(
    "/applications/{application_id}/opinions",
    status_code=201,
    response_model=OpinionRead,
    responses=errors(),
)
async def add_opinion(
    application_id: uuid.UUID, body: OpinionCreate, session: DbSession, principal: Instructor
) -> Any:
    """Record an expert opinion (avis); a confidential one is never shown to the applicant."""
    await applications.load(session, principal, application_id)
    row = Opinion(
        application_id=application_id,
        expert=body.expert,
        verdict=body.verdict,
        body=body.body,
        confidential=body.confidential,
        author_client_id=principal.client_id,
    )
    session.add(row)
    await session.flush()
    return row


@router.get(
    "/applications/{application_id}/opinions",
    response_model=Page[OpinionRead],
    responses=errors(),
)
async def list_opinions(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """Opinions on the file; applicants only see those not marked confidential."""
    await applications.load(session, principal, application_id)
    statement = select(Opinion).where(Opinion.application_id == application_id)
    if not access.is_staff(principal):
        statement = statement.where(Opinion.confidential.is_(False))
    rows, cursor = await repository.paginate(
        session, statement, key=Opinion.id, cursor=page.cursor, limit=page.limit
    )
    return _page(rows, cursor, OpinionRead)


@router.post(
    "/applications/{application_id}/annotations",
    status_code=201,
    response_model=AnnotationRead,
    responses=errors(),
)
async def add_annotation(
    application_id: uuid.UUID, body: NoteCreate, session: DbSession, principal: Instructor
) -> Any:
    """Add a private annotation, visible to instruction staff only."""
    await applications.load(session, principal, application_id)
    row = Annotation(
        application_id=application_id, author_client_id=principal.client_id, body=body.body
    )
    session.add(row)
    await session.flush()
    return row


@router.get(
    "/applications/{application_id}/annotations",
    response_model=Page[AnnotationRead],
    responses=errors(),
)
async def list_annotations(
    application_id: uuid.UUID, session: DbSession, principal: Instructor, page: PageParams
) -> Any:
    """Private annotations of the instruction staff."""
    await applications.load(session, principal, application_id)
    if not access.is_staff(principal):
        raise Forbidden("annotations are for instruction staff only")
    statement = select(Annotation).where(Annotation.application_id == application_id)
    rows, cursor = await repository.paginate(
        session, statement, key=Annotation.id, cursor=page.cursor, limit=page.limit
    )
    return _page(rows, cursor, AnnotationRead)


@router.post(
    "/applications/{application_id}/messages",
    status_code=201,
    response_model=MessageRead,
    responses=errors(),
)
async def post_message(
    application_id: uuid.UUID, body: NoteCreate, session: DbSession, principal: Reader
) -> Any:
    """Write to the other side of the file (applicant to staff, or staff to applicant)."""
    access.ensure_may_write_on_file(principal)
    await applications.load(session, principal, application_id)
    row = Message(
        application_id=application_id,
        author_client_id=principal.client_id,
        author_role=principal.role or "unknown",
        body=body.body,
    )
    session.add(row)
    await session.flush()
    return row


@router.get(
    "/applications/{application_id}/messages",
    response_model=Page[MessageRead],
    responses=errors(),
)
async def list_messages(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """The conversation on the file, oldest first."""
    await applications.load(session, principal, application_id)
    statement = select(Message).where(Message.application_id == application_id)
    rows, cursor = await repository.paginate(
        session, statement, key=Message.id, cursor=page.cursor, limit=page.limit
    )
    return _page(rows, cursor, MessageRead)


@router.post(
    "/applications/{application_id}/documents",
    status_code=201,
    response_model=DocumentRead,
    responses=errors(),
)
async def attach_document(
    application_id: uuid.UUID,
    body: DocumentCreate,
    session: DbSession,
    principal: Reader,
    blobs: Blobs,
) -> Any:
    """Attach a document (base64 content); its SHA-256 is recorded and checked on reading."""
    access.ensure_may_write_on_file(principal)
    await applications.load(session, principal, application_id)
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unprocessable("content_base64 is not valid base64") from exc
    if len(content) > MAX_DOCUMENT_BYTES:
        raise Unprocessable(f"documents are limited to {MAX_DOCUMENT_BYTES} bytes")
    digest = await blobs.put(content)
    row = Document(
        application_id=application_id,
        filename=body.filename,
        content_type=body.content_type,
        size_bytes=len(content),
        sha256=digest,
        uploaded_by=principal.client_id,
    )
    session.add(row)
    await session.flush()
    return row


@router.get(
    "/applications/{application_id}/documents",
    response_model=Page[DocumentRead],
    responses=errors(),
)
async def list_documents(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """Documents attached to the file (metadata and checksums)."""
    await applications.load(session, principal, application_id)
    statement = select(Document).where(Document.application_id == application_id)
    rows, cursor = await repository.paginate(
        session, statement, key=Document.id, cursor=page.cursor, limit=page.limit
    )
    return _page(rows, cursor, DocumentRead)


@router.get(
    "/documents/{document_id}/content",
    response_class=Response,
    responses={200: {"content": {"*/*": {}}}, **errors()},
)
async def read_document(
    document_id: uuid.UUID, session: DbSession, principal: Reader, blobs: Blobs
) -> Response:
    """The document's bytes, verified against the recorded SHA-256."""
    document = await repository.get(session, Document, document_id)
    await applications.load(session, principal, document.application_id)
    content = await blobs.get(document.sha256)
    if content is None:
        raise NotFound("the document's content is missing or does not match its checksum")
    return Response(content=content, media_type=document.content_type)
