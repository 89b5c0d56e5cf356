"""Use cases of the programme catalogue: programmes, envelopes (AP/CP), calls, accompanists,
and the changes of an envelope's figures that other concepts ask for (commitments,
releases, payments), each under the envelope's row lock."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db.repository import Page, insert_unique
from services.funding.programmes import repository
from services.funding.programmes.errors import InvalidEligibilityRulesError
from services.funding.programmes.events import budget_event
from services.funding.programmes.models import Accompanist, Call, Envelope, Programme
from services.funding.programmes.rules import budget, routing
from services.funding.programmes.rules.territory import covered, validate_territories
from services.funding.tenancy.checks import ensure_envelope
from shared.auth import Principal

# Lookups other concepts use; they check tenancy on their own rows.
programme = repository.programme
programme_by_code = repository.programme_by_code
envelope = repository.envelope
envelope_by_code = repository.envelope_by_code
envelopes_by_year = repository.envelopes_by_year
call = repository.call
is_accompanist = repository.accompanist_exists


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
        revolving=data.revolving,
    )
    await insert_unique(session, row, f"programme {data.code!r}")
    return row


async def readable_programmes(
    session: AsyncSession, principal: Principal, *, cursor: uuid.UUID | None, limit: int
) -> Page:
    return await repository.readable_programmes(session, principal, cursor=cursor, limit=limit)


async def readable_programme(session: AsyncSession, principal: Principal, code: str) -> Programme:
    found = await repository.programme_by_code(session, code)
    principal.ensure_access("programmes", found.code)
    return found


async def create_envelope(
    session: AsyncSession, principal: Principal, programme_code: str, data: Any
) -> Envelope:
    found = await repository.programme_by_code(session, programme_code)
    principal.ensure_access("programmes", found.code)
    budget.Envelope(ap_cents=data.ap_cents, cp_cents=data.cp_cents)
    row = Envelope(
        code=data.code,
        programme_id=found.id,
        year=data.year,
        ap_cents=data.ap_cents,
        cp_cents=data.cp_cents,
        committed_cents=0,
        ordered_cents=0,
        paid_cents=0,
    )
    await insert_unique(session, row, f"envelope {data.code!r}")
    return row


async def usable_envelopes(
    session: AsyncSession,
    principal: Principal,
    programme_code: str,
    *,
    cursor: uuid.UUID | None,
    limit: int,
) -> Page:
    found = await repository.programme_by_code(session, programme_code)
    return await repository.usable_envelopes(session, principal, found, cursor=cursor, limit=limit)


async def envelope_for(
    session: AsyncSession, principal: Principal, code: str, *, lock: bool = False
) -> tuple[Envelope, Programme]:
    """The envelope with this code and its programme, after the tenancy check."""
    found = await repository.envelope_by_code(session, code)
    if lock:
        found = await repository.envelope(session, found.id, lock=True)
    owner = await repository.programme(session, found.programme_id)
    ensure_envelope(principal, found, owner)
    return found, owner


async def resize_envelope(
    session: AsyncSession, principal: Principal, code: str, data: Any
) -> Envelope:
    """Amend AP and CP; never below what is committed, ordered or paid."""
    found, owner = await envelope_for(session, principal, code, lock=True)
    principal.ensure_access("programmes", owner.code)
    updated = budget.resize(_figures(found), ap_cents=data.ap_cents, cp_cents=data.cp_cents)
    found.ap_cents, found.cp_cents = updated.ap_cents, updated.cp_cents
    await session.flush()
    return found


async def delegate_envelope(
    session: AsyncSession, principal: Principal, code: str, data: Any
) -> Envelope:
    found, owner = await envelope_for(session, principal, code, lock=True)
    principal.ensure_access("programmes", owner.code)
    territories = validate_territories(data.territories)
    eligible = frozenset(owner.eligible_territories)
    outside = sorted(t for t in territories if not covered(t, eligible))
    if outside:
        raise InvalidEligibilityRulesError(
            f"territories {outside} are outside the programme", territories=outside
        )
    found.delegated_to = data.delegated_to
    found.delegated_territories = sorted(territories)
    await session.flush()
    return found


async def create_call(
    session: AsyncSession, principal: Principal, programme_code: str, data: Any
) -> Call:
    found = await repository.programme_by_code(session, programme_code)
    principal.ensure_access("programmes", found.code)
    if data.closes_at <= data.opens_at:
        raise InvalidEligibilityRulesError("a call must close after it opens")
    row = Call(
        programme_id=found.id,
        title=data.title,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        criteria=data.criteria or "",
        required_documents=list(data.required_documents),
    )
    await insert_unique(session, row, "call")
    return row


async def calls(
    session: AsyncSession,
    principal: Principal,
    programme_code: str,
    *,
    cursor: uuid.UUID | None,
    limit: int,
) -> Page:
    found = await readable_programme(session, principal, programme_code)
    return await repository.calls_of(session, found.id, cursor=cursor, limit=limit)


async def create_accompanist(session: AsyncSession, data: Any) -> Accompanist:
    territories = validate_territories(data.territories)
    row = Accompanist(
        id=data.id,
        name=data.name,
        territories=sorted(territories),
        capacity=data.capacity,
        active=True,
    )
    await insert_unique(session, row, f"accompanist {data.id!r}")
    return row


async def accompanists(session: AsyncSession, *, cursor: str | None, limit: int) -> Page:
    return await repository.accompanists(session, cursor=cursor, limit=limit)


async def assign_accompanist(
    session: AsyncSession, commune_insee_code: str, *, open_cases: dict[str, int]
) -> str:
    """The active accompanist who instructs a file of this commune, given their open files."""
    candidates = [
        routing.Accompanist(
            accompanist_id=p.id, territories=frozenset(p.territories), capacity=p.capacity
        )
        for p in await repository.active_accompanists(session)
    ]
    return routing.route(commune_insee_code, candidates, open_cases=open_cases).accompanist_id


def _figures(row: Envelope) -> budget.Envelope:
    """The envelope's budget value; ordered payments already count as paid, and what a
    revolving fund got back may be committed and paid again."""
    return budget.Envelope(
        ap_cents=row.ap_cents + row.relendable_cents,
        cp_cents=row.cp_cents + row.relendable_cents,
        committed_cents=row.committed_cents,
        paid_cents=row.paid_cents + row.ordered_cents,
    )


class Grantee(Protocol):
    """The application a commitment is for, as the budget event names it."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def territory(self) -> str: ...


async def change_commitment(
    session: AsyncSession,
    *,
    envelope: Envelope,
    owner: Programme,
    grantee: Grantee,
    amount_cents: int,
    release_from: budget.Commitment | None = None,
) -> Envelope:
    """Commit ``amount_cents`` of the envelope to a grant (refused beyond AP) or, with
    ``release_from``, give them back from that unpaid commitment; announce either. The
    envelope is locked again here, whatever the caller holds of it."""
    locked = await repository.envelope(session, envelope.id, lock=True)
    if release_from is None:
        updated, _ = budget.commit(_figures(locked), amount_cents)
    else:
        updated, _ = budget.decommit(_figures(locked), release_from, amount_cents)
    locked.committed_cents = updated.committed_cents
    await session.flush()
    await budget_event(
        session,
        released=release_from is not None,
        envelope=locked,
        programme=owner,
        application_id=grantee.id,
        territory=grantee.territory,
        amount_cents=amount_cents,
    )
    return locked


async def reserve_payment(
    session: AsyncSession,
    *,
    envelope_id: uuid.UUID,
    commitment: budget.Commitment,
    amount_cents: int,
) -> Envelope:
    """Reserve an ordered payment on the envelope, refused beyond the commitment or the CP."""
    locked = await repository.envelope(session, envelope_id, lock=True)
    budget.pay(_figures(locked), commitment, amount_cents)
    locked.ordered_cents += amount_cents
    return locked


async def settle_payment(
    session: AsyncSession, *, envelope_id: uuid.UUID, amount_cents: int, paid: bool
) -> Envelope:
    """Turn a reserved payment into a paid one, or give it back when it failed."""
    locked = await repository.envelope(session, envelope_id, lock=True)
    locked.ordered_cents -= amount_cents
    if paid:
        locked.paid_cents += amount_cents
    return locked


async def record_returns(
    session: AsyncSession,
    *,
    envelope_id: uuid.UUID,
    expected_cents: int = 0,
    repaid_cents: int = 0,
    recovered_cents: int = 0,
    losses_cents: int = 0,
) -> Envelope:
    """What comes back on a loan or a guarantee, under the envelope's lock: repayments
    expected (at decision), received, recovered, and losses (a recovery lowers them). A
    revolving programme may re-lend what was received or recovered."""
    await session.flush()  # the locked read refreshes the row: pending changes first
    locked = await repository.envelope(session, envelope_id, lock=True)
    owner = await repository.programme(session, locked.programme_id)
    locked.expected_repayments_cents += expected_cents
    locked.repaid_cents += repaid_cents
    locked.recovered_cents += recovered_cents
    locked.losses_cents += losses_cents
    if owner.revolving:
        locked.relendable_cents += repaid_cents + recovered_cents
    await session.flush()
    return locked
