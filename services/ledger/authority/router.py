"""Mandates on an account, and the link between a grant application and the account its
beneficiary holds: HTTP only."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from services.ledger.authority.errors import (
    GrantLinkConflict,
    InvalidMandate,
    MandateNotActive,
    NoDebitAuthority,
    NoReadAuthority,
)
from services.ledger.authority.schemas import (
    GrantLinkCreate,
    GrantLinkRead,
    MandateCreate,
    MandatePage,
    MandateRead,
)
from services.ledger.authority.service import mandates as service
from services.ledger.http.pagination import (
    InvalidCursor,
    PageOf50,
)
from services.ledger.http.scopes import AUTH_ERRORS, Poster, Reader
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/accounts/{account_id}", tags=["authority"])


@router.post(
    "/mandates",
    status_code=201,
    response_model=MandateRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoDebitAuthority, InvalidMandate)},
)
async def grant_mandate(
    account_id: UUID, body: MandateCreate, principal: Poster, session: DbSession
) -> Any:
    """Let another principal debit (within limits, until an expiry) or read this account:
    the holder's act, or the operator's."""
    return await service.grant(
        session,
        principal,
        account_id,
        grantee=body.grantee,
        may_debit=body.may_debit,
        may_read=body.may_read,
        max_per_payment=body.max_per_payment,
        max_per_period=body.max_per_period,
        period=body.period,
        expires_at=body.expires_at,
        purpose=body.purpose,
    )


@router.get(
    "/mandates",
    response_model=MandatePage,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoReadAuthority, InvalidCursor)},
)
async def list_mandates(
    account_id: UUID, principal: Reader, session: DbSession, paging: PageOf50
) -> Any:
    """Every mandate of the account, revoked and expired ones included, oldest first."""
    mandates = await service.list_mandates(
        session, principal, account_id, after=paging.after(UUID), limit=paging.limit
    )
    return paging.page_of(mandates, "id")


@router.post(
    "/mandates/{mandate_id}/revocation",
    response_model=MandateRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoDebitAuthority, MandateNotActive)},
)
async def revoke_mandate(
    account_id: UUID, mandate_id: UUID, principal: Poster, session: DbSession
) -> Any:
    """End a mandate now (the holder's or the operator's act); it stays in the history."""
    return await service.revoke(session, principal, account_id, mandate_id)


@router.post(
    "/grant-links",
    status_code=201,
    response_model=GrantLinkRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoDebitAuthority, GrantLinkConflict)},
)
async def link_grant(
    account_id: UUID, body: GrantLinkCreate, principal: Poster, session: DbSession
) -> Any:
    """The holder names this account as where an application's grant is paid: the ledger
    pays a programme's tranches only to the account so linked."""
    return await service.link(
        session,
        principal,
        account_id,
        programme_code=body.programme_code,
        application_id=body.application_id,
    )
