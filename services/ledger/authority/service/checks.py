"""The one authority check, and the checks of operator acts and reads.

`authorize_debits` is called by the posting path (`services.ledger.transactions.service`)
for every posting, whatever asked for it (an HTTP route, a card payment, an event handler):
it returns the authority row of each debit leg, which the posting statement writes beside
the postings; the database refuses a debit without it (``tg_postings_debit_authority``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority import repository as repo
from services.ledger.authority.errors import (
    NoDebitAuthority,
    NoReadAuthority,
    OperatorActRequired,
)
from services.ledger.authority.rules import (
    AUDIT_SCOPE,
    Actor,
    Basis,
    Grant,
    actor_of,
    basis_without_mandate,
    check_mandate_debit,
    holds_or_operates,
    mandate_from,
)
from services.ledger.errors import LedgerDomainError
from services.ledger.transactions.rules import Posting
from shared.auth import Principal


def actor(principal: Principal) -> Actor:
    """The actor a verified token speaks for."""
    return actor_of(
        principal.client_id,
        principal.scopes,
        principal.visible("currencies"),
        admin=principal.is_admin,
    )


def ensure_operator_read(principal: Principal, currency: str, *, what: str) -> None:
    """Currency-wide lists of members' movements are for the operator, or an auditor
    (``ledger:audit`` bound to the currency)."""
    if AUDIT_SCOPE in principal.scopes and principal.may_access("currencies", currency):
        return
    ensure_operator(principal, currency, act=f"reading {what}")


def ensure_operator(principal: Principal | Actor, currency: str, *, act: str) -> None:
    """Refuse an operator act (``act`` names it) by anyone but the currency's operator."""
    who = principal if isinstance(principal, Actor) else actor(principal)
    if not who.operates(currency):
        raise OperatorActRequired(
            f"{act} in {currency} is an act of the currency's operator",
            currency=currency,
            act=act,
        )


MandateRows = Mapping[tuple[str, UUID], Any]
"""Debit mandates found (and locked), by (grantee, account), each with its ``used``."""


def needs_mandate(
    who: Actor, legs: Sequence[Posting], locked: Mapping[UUID, Mapping[str, Any]]
) -> list[UUID]:
    """The accounts ``legs`` debit on which ``who`` has no basis but a mandate."""
    return [
        leg.account_id
        for leg in legs
        if leg.amount < 0
        and leg.account_id in locked
        and basis_without_mandate(who, locked[leg.account_id]) is None
    ]


async def debit_mandates(
    session: AsyncSession, wanted: Mapping[str, Sequence[UUID]], now: datetime
) -> dict[tuple[str, UUID], Any]:
    """The debit mandates of each grantee on the accounts ``wanted`` names, locked (one
    query per grantee, grantees in order: two callers lock mandates in the same order)."""
    found: dict[tuple[str, UUID], Any] = {}
    for grantee in sorted(wanted):
        if wanted[grantee]:
            rows = await repo.lock_debit_mandates(
                session, grantee=grantee, account_ids=wanted[grantee], now=now
            )
            found.update({(grantee, account): row for account, row in rows.items()})
    return found


def grant_debits(
    who: Actor,
    legs: Sequence[Posting],
    locked: Mapping[UUID, Mapping[str, Any]],
    mandates: MandateRows,
    used: Mapping[tuple[str, UUID], int],
    now: datetime,
) -> list[Grant]:
    """The authority of each debit leg of one transaction, or the refusal of the first leg
    ``who`` may not debit. ``used`` is what was debited under each mandate this period,
    including the caller's earlier transactions of the same unit of work (the caller adds
    a transaction's mandate grants to it once it is accepted)."""
    grants: list[Grant] = []
    pending: list[Posting] = []
    for leg in legs:
        if leg.amount >= 0 or leg.account_id not in locked:
            continue  # an unknown account is refused by `check_legs`
        basis = basis_without_mandate(who, locked[leg.account_id])
        if basis is None:
            pending.append(leg)
        else:
            grants.append(Grant(leg.account_id, basis, who.principal, -leg.amount))
    for leg in pending:
        row = mandates.get((who.principal, leg.account_id))
        if row is None:
            raise NoDebitAuthority(
                f"{who.principal!r} may not debit account {leg.account_id}: it is not "
                "its holder, holds no mandate on it and does not operate its currency",
                account_id=str(leg.account_id),
            )
        mandate = mandate_from(row)
        spent = used.get((who.principal, leg.account_id), int(row["used"]))
        check_mandate_debit(mandate, amount=-leg.amount, used=spent, now=now)
        grants.append(Grant(leg.account_id, Basis.MANDATE, who.principal, -leg.amount, mandate.id))
    return grants


def count_use(
    used: dict[tuple[str, UUID], int], grants: Sequence[Grant], mandates: MandateRows
) -> None:
    """Add an accepted transaction's mandate debits to ``used`` (see `grant_debits`)."""
    for grant in grants:
        if grant.mandate_id is not None:
            key = (grant.principal, grant.account_id)
            used[key] = used.get(key, int(mandates[key]["used"])) + grant.amount


async def authorize_batch(
    session: AsyncSession,
    who: Actor,
    transactions: Sequence[Sequence[Posting]],
    locked: Mapping[UUID, Mapping[str, Any]],
) -> list[list[Grant]]:
    """The authority of every debit leg of ``transactions`` (accounts already locked), or
    the refusal of the first leg ``who`` may not debit (its index in ``extra["item"]`` when
    there are several transactions).

    Holder, card and operator need no query; only a debit under a mandate reads (and locks)
    the caller's mandates, once for the whole batch, with their use so far this period; the
    batch's own debits count against the period limit in order.
    """
    now = datetime.now(UTC)
    wanted = [account for legs in transactions for account in needs_mandate(who, legs, locked)]
    mandates = await debit_mandates(session, {who.principal: wanted}, now) if wanted else {}
    used: dict[tuple[str, UUID], int] = {}
    grants: list[list[Grant]] = []
    for index, legs in enumerate(transactions):
        try:
            grants.append(grant_debits(who, legs, locked, mandates, used, now))
        except LedgerDomainError as exc:
            if len(transactions) > 1:
                exc.extra["item"] = index
            raise
        count_use(used, grants[-1], mandates)
    return grants


async def authorize_debits(
    session: AsyncSession,
    who: Actor,
    legs: Sequence[Posting],
    locked: Mapping[UUID, Mapping[str, Any]],
) -> list[Grant]:
    """`authorize_batch` for one transaction."""
    return (await authorize_batch(session, who, [legs], locked))[0]


def authority_rows(grants: Sequence[Grant]) -> list[tuple[UUID, str, str, UUID | None, int]]:
    """Each grant as the posting statement writes it: account, basis, principal, mandate
    (or None), amount."""
    return [(g.account_id, g.basis.value, g.principal, g.mandate_id, g.amount) for g in grants]


async def ensure_may_read(session: AsyncSession, who: Actor, account: Mapping[Any, Any]) -> None:
    """Refuse another member's statement, postings and exports (holder, operator or a
    mandate that includes reading)."""
    if holds_or_operates(who, account):
        return
    mandated = await repo.has_read_mandate(
        session, grantee=who.principal, account_id=account["id"], now=datetime.now(UTC)
    )
    if not mandated:
        raise NoReadAuthority(
            f"{who.principal!r} may not read account {account['id']}",
            account_id=str(account["id"]),
        )


def ensure_holder_or_operator(who: Actor, account: Mapping[Any, Any], *, act: str) -> None:
    """Acts on an account that only its holder or its operator may do (mandates, links)."""
    if not holds_or_operates(who, account):
        raise NoDebitAuthority(
            f"only the holder of account {account['id']} or its operator may {act}",
            account_id=str(account["id"]),
        )
