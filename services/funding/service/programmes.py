"""Use cases of the programme catalogue: programmes, envelopes (AP/CP), calls, accompanists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.domain import budget
from services.funding.domain.errors import InvalidEligibilityRulesError
from services.funding.domain.territory import validate_territories
from services.funding.service import access
from services.funding.store import repository
from services.funding.store.models import Accompanist, Base, Call, Envelope, Programme
from shared.auth import Principal
from shared.problems import Conflict


async def _insert(session: AsyncSession, row: Base, what: str) -> None:
    """Insert under a savepoint so a duplicate key is a 409, not a failed transaction."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists") from exc


async def create_programme(session: AsyncSession, principal: Principal, data: Any) -> Programme:
    principal.ensure_access("programmes", data.code)
    territories = validate_territories(data.eligible_territories)
    if data.advance_percent + sum(data.intermediate_percents) >= 100:
        raise InvalidEligibilityRulesError("advance and intermediate tranches must leave a balance")
    row = Programme(
        code=data.code,
        name=data.name,
        operator=data.operator,
        eligible_territories=sorted(territories),
        legal_forms=sorted({str(f) for f in data.legal_forms}),
        project_stages=sorted({str(s) for s in data.project_stages}),
        convention_threshold_cents=data.convention_threshold_cents,
        advance_percent=data.advance_percent,
        intermediate_percents=list(data.intermediate_percents),
    )
    await _insert(session, row, f"programme {data.code!r}")
    return row


async def create_envelope(
    session: AsyncSession, principal: Principal, programme_code: str, data: Any
) -> Envelope:
    programme = await repository.programme_by_code(session, programme_code)
    principal.ensure_access("programmes", programme.code)
    budget.Envelope(ap_cents=data.ap_cents, cp_cents=data.cp_cents)
    row = Envelope(
        code=data.code,
        programme_id=programme.id,
        year=data.year,
        ap_cents=data.ap_cents,
        cp_cents=data.cp_cents,
        committed_cents=0,
        ordered_cents=0,
        paid_cents=0,
    )
    await _insert(session, row, f"envelope {data.code!r}")
    return row


async def envelope_for(
    session: AsyncSession, principal: Principal, code: str, *, lock: bool = False
) -> tuple[Envelope, Programme]:
    envelope = await repository.envelope_by_code(session, code)
    if lock:
        envelope = await repository.get(session, Envelope, envelope.id, lock=True)
    programme = await repository.get(session, Programme, envelope.programme_id)
    access.ensure_envelope(principal, envelope, programme)
    return envelope, programme


async def resize_envelope(
    session: AsyncSession, principal: Principal, code: str, data: Any
) -> Envelope:
    """Amend AP and CP; never below what is committed, ordered or paid."""
    envelope, programme = await envelope_for(session, principal, code, lock=True)
    principal.ensure_access("programmes", programme.code)
    current = budget.Envelope(
        ap_cents=envelope.ap_cents,
        cp_cents=envelope.cp_cents,
        committed_cents=envelope.committed_cents,
        paid_cents=envelope.paid_cents + envelope.ordered_cents,
    )
    updated = budget.resize(current, ap_cents=data.ap_cents, cp_cents=data.cp_cents)
    envelope.ap_cents, envelope.cp_cents = updated.ap_cents, updated.cp_cents
    await session.flush()
    return envelope


async def delegate_envelope(
    session: AsyncSession, principal: Principal, code: str, data: Any
) -> Envelope:
    envelope, programme = await envelope_for(session, principal, code, lock=True)
    principal.ensure_access("programmes", programme.code)
    territories = validate_territories(data.territories)
    outside = sorted(
        t for t in territories if not _covered(t, frozenset(programme.eligible_territories))
    )
    if outside:
        raise InvalidEligibilityRulesError(
            f"territories {outside} are outside the programme", territories=outside
        )
    envelope.delegated_to = data.delegated_to
    envelope.delegated_territories = sorted(territories)
    await session.flush()
    return envelope


def _covered(code: str, territories: frozenset[str]) -> bool:
    if code in territories:
        return True
    departement = code[:3] if code.startswith("97") else code[:2]
    return len(code) == 5 and departement in territories


async def create_call(
    session: AsyncSession, principal: Principal, programme_code: str, data: Any
) -> Call:
    programme = await repository.programme_by_code(session, programme_code)
    principal.ensure_access("programmes", programme.code)
    if data.closes_at <= data.opens_at:
        raise InvalidEligibilityRulesError("a call must close after it opens")
    row = Call(
        programme_id=programme.id,
        title=data.title,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        criteria=data.criteria or "",
        required_documents=list(data.required_documents),
    )
    await _insert(session, row, "call")
    return row


async def create_accompanist(session: AsyncSession, data: Any) -> Accompanist:
    territories = validate_territories(data.territories)
    if await session.scalar(select(Accompanist.id).where(Accompanist.id == data.id)):
        raise Conflict(f"accompanist {data.id!r} already exists")
    row = Accompanist(
        id=data.id,
        name=data.name,
        territories=sorted(territories),
        capacity=data.capacity,
        active=True,
    )
    await _insert(session, row, f"accompanist {data.id!r}")
    return row
