"""Dependencies every funding router uses: scopes, keyset paging, documented errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from services.funding.domain.errors import FundingDomainError
from services.funding.store.blobs import BlobStore
from shared.auth import Principal, require_scope
from shared.problems import Conflict, Forbidden, NotFound, Unauthorized, problem_responses

Reader = Annotated[Principal, Depends(require_scope("funding:read"))]
Applicant = Annotated[Principal, Depends(require_scope("funding:apply"))]
Instructor = Annotated[Principal, Depends(require_scope("funding:instruct"))]
Decider = Annotated[Principal, Depends(require_scope("funding:decide"))]
Payer = Annotated[Principal, Depends(require_scope("funding:pay"))]
Admin = Annotated[Principal, Depends(require_scope("funding:admin"))]


@dataclass(frozen=True)
class Paging:
    cursor: uuid.UUID | None
    limit: int


def paging(
    cursor: Annotated[
        uuid.UUID | None, Query(description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Paging:
    """Keyset paging: items after ``cursor``, at most ``limit`` of them."""
    return Paging(cursor=cursor, limit=limit)


PageParams = Annotated[Paging, Depends(paging)]


class _RuleViolation(FundingDomainError):
    status, title = 422, "Request breaks a funding rule"


class _StateConflict(FundingDomainError):
    status, title = 409, "Conflicts with the current state"


def errors(*extra: type[Exception]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a funding endpoint: authentication, tenancy, absence, rules."""
    return problem_responses(
        Unauthorized, Forbidden, NotFound, Conflict, _StateConflict, _RuleViolation, *extra
    )


def blob_store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blob_store
    return store


Blobs = Annotated[BlobStore, Depends(blob_store)]
