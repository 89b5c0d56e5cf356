"""Instruction of a file: expert opinions, private annotations, messages, documents."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from services.funding.http.pagination import Page, PageParams, page_of
from services.funding.http.responses import errors
from services.funding.http.scopes import Instructor, Reader
from services.funding.instruction import service
from services.funding.instruction.schemas import (
    AnnotationRead,
    DocumentCreate,
    DocumentRead,
    MessageRead,
    NoteCreate,
    OpinionCreate,
    OpinionRead,
)
from shared.service_app import DbSession

router = APIRouter(tags=["instruction"])


def blob_store(request: Request) -> service.BlobStore:
    store: service.BlobStore = request.app.state.blob_store
    return store


Blobs = Annotated[service.BlobStore, Depends(blob_store)]


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
    return await service.add_opinion(session, principal, application_id, body)


@router.get(
    "/applications/{application_id}/opinions",
    response_model=Page[OpinionRead],
    responses=errors(),
)
async def list_opinions(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """Opinions on the file; applicants only see those not marked confidential."""
    rows, cursor = await service.read(session, principal, application_id, "opinions", page)
    return page_of(rows, cursor, OpinionRead)


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
    return await service.add_annotation(session, principal, application_id, body)


@router.get(
    "/applications/{application_id}/annotations",
    response_model=Page[AnnotationRead],
    responses=errors(),
)
async def list_annotations(
    application_id: uuid.UUID, session: DbSession, principal: Instructor, page: PageParams
) -> Any:
    """Private annotations of the instruction staff."""
    rows, cursor = await service.read(session, principal, application_id, "annotations", page)
    return page_of(rows, cursor, AnnotationRead)


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
    return await service.post_message(session, principal, application_id, body)


@router.get(
    "/applications/{application_id}/messages",
    response_model=Page[MessageRead],
    responses=errors(),
)
async def list_messages(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """The conversation on the file, oldest first."""
    rows, cursor = await service.read(session, principal, application_id, "messages", page)
    return page_of(rows, cursor, MessageRead)


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
    return await service.attach_document(session, principal, application_id, body, blobs=blobs)


@router.get(
    "/applications/{application_id}/documents",
    response_model=Page[DocumentRead],
    responses=errors(),
)
async def list_documents(
    application_id: uuid.UUID, session: DbSession, principal: Reader, page: PageParams
) -> Any:
    """Documents attached to the file (metadata and checksums)."""
    rows, cursor = await service.read(session, principal, application_id, "documents", page)
    return page_of(rows, cursor, DocumentRead)


@router.get(
    "/documents/{document_id}/content",
    response_class=Response,
    responses={200: {"content": {"*/*": {}}}, **errors()},
)
async def read_document(
    document_id: uuid.UUID, session: DbSession, principal: Reader, blobs: Blobs
) -> Response:
    """The document's bytes, verified against the recorded SHA-256.

    Always an attachment, whatever type the uploader declared: an uploaded "text/html"
    must never render, and run, in the API's origin."""
    content, media_type = await service.document_content(
        session, principal, document_id, blobs=blobs
    )
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document_id}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
