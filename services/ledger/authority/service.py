"""The one authority check, and the use cases of mandates and grant links.

`authorize_debits` is called by `services.ledger.service.post` and by the atomic batch path
for every posting, whatever asked for it (an HTTP route, a card payment, an event handler):
it returns the authority row of each debit leg, which the posting statement writes beside
the postings; the database refuses a debit without it (``tg_postings_debit_authority``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority import repository as repo
from services.ledger.authority.errors import (
    GrantLinkConflict,
    NoDebitAuthority,
    NoReadAuthority,
    OperatorActRequired,
)
from services.ledger.authority.rules import (
    Actor,
    Basis,
    Grant,
    Mandate,
    MandatePeriod,
    actor_of,
    basis_without_mandate,
    check_mandate_debit,
    check_new_mandate,
    check_revocable,
    may_read,
)
from services.ledger.errors import LedgerDomainError
from services.ledger.store import repository as ledger_repo
from services.ledger.transactions.rules import Posting
from shared.auth import Principal
from shared.problems import NotFound


def actor(principal: Principal) -> Actor:
    """The actor a verified token speaks for."""
    return actor_of(
        principal.client_id,
        principal.scopes,
        principal.visible("currencies"),
        admin=principal.is_admin,
    )


def ensure_operator(principal: Principal | Actor, currency: str, *, act: str) -> None:
    """Refuse an operator act (``act`` names it) by anyone but the currency's operator."""
    who = principal if isinstance(principal, Actor) else actor(principal)
    if not who.operates(currency):
        raise OperatorActRequired(
            f"{act} in {currency} is an act of the currency's operator",
            currency=currency,
            act=act,
        )


def _mandate(row: Mapping[Any, Any]) -> Mandate:
    return Mandate(
        id=row["id"],
        account_id=row["account_id"],
        grantee=row["grantee"],
        may_debit=row["may_debit"],
        max_per_payment=row["max_per_payment"],
        max_per_period=row["max_per_period"],
        period=MandatePeriod(row["period"]),
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


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
    grants: list[list[Grant]] = [[] for _ in transactions]
    pending: list[tuple[int, Posting]] = []
    for index, legs in enumerate(transactions):
        for leg in legs:
            if leg.amount >= 0:
                continue
            account = locked.get(leg.account_id)
            if account is None:
                continue  # `check_legs` refuses the unknown account
            basis = basis_without_mandate(who, account)
            if basis is None:
                pending.append((index, leg))
            else:
                grants[index].append(Grant(leg.account_id, basis, who.principal, -leg.amount))
    if pending:
        now = datetime.now(UTC)
        rows = await repo.lock_debit_mandates(
            session,
            grantee=who.principal,
            account_ids=[leg.account_id for _, leg in pending],
            now=now,
        )
        used = {account: int(row["used"]) for account, row in rows.items()}
        for index, leg in pending:
            row = rows.get(leg.account_id)
            try:
                if row is None:
                    raise NoDebitAuthority(
                        f"{who.principal!r} may not debit account {leg.account_id}: it is not "
                        "its holder, holds no mandate on it and does not operate its currency",
                        account_id=str(leg.account_id),
                    )
                mandate = _mandate(row)
                check_mandate_debit(mandate, amount=-leg.amount, used=used[leg.account_id], now=now)
            except LedgerDomainError as exc:
                if len(transactions) > 1:
                    exc.extra["item"] = index
                raise
            used[leg.account_id] += -leg.amount
            grants[index].append(
                Grant(leg.account_id, Basis.MANDATE, who.principal, -leg.amount, mandate.id)
            )
    return grants


async def authorize_debits(
    session: AsyncSession,
    who: Actor,
    legs: Sequence[Posting],
    locked: Mapping[UUID, Mapping[str, Any]],
) -> list[Grant]:
    """`authorize_batch` for one transaction."""
    return (await authorize_batch(session, who, [legs], locked))[0]


def authority_rows(grants: Sequence[Grant]) -> list[ledger_repo.AuthorityRow]:
    return [(g.account_id, g.basis.value, g.principal, g.mandate_id, g.amount) for g in grants]


async def ensure_may_read(session: AsyncSession, who: Actor, account: Mapping[str, Any]) -> None:
    """Refuse another member's statement, postings and exports (holder, operator or a
    mandate that includes reading)."""
    if may_read(who, account, read_mandate=False):
        return
    mandated = await repo.has_read_mandate(
        session, grantee=who.principal, account_id=account["id"], now=datetime.now(UTC)
    )
    if not mandated:
        raise NoReadAuthority(
            f"{who.principal!r} may not read account {account['id']}",
            account_id=str(account["id"]),
        )


def ensure_holder_or_operator(who: Actor, account: Mapping[str, Any], *, act: str) -> None:
    """Acts on an account that only its holder or its operator may do (mandates, links)."""
    if account["holder"] != who.principal and not who.operates(account["currency"]):
        raise NoDebitAuthority(
            f"only the holder of account {account['id']} or its operator may {act}",
            account_id=str(account["id"]),
        )


# --- mandates -------------------------------------------------------------------------------


async def grant_mandate(
    session: AsyncSession,
    who: Actor,
    account: Mapping[str, Any],
    *,
    grantee: str,
    may_debit: bool,
    may_read: bool,
    max_per_payment: int | None,
    max_per_period: int | None,
    period: MandatePeriod,
    expires_at: datetime,
    purpose: str,
) -> RowMapping:
    ensure_holder_or_operator(who, account, act="grant a mandate on it")
    now = datetime.now(UTC)
    check_new_mandate(
        holder=account["holder"],
        grantee=grantee,
        may_debit=may_debit,
        may_read=may_read,
        max_per_payment=max_per_payment,
        max_per_period=max_per_period,
        expires_at=expires_at,
        now=now,
    )
    return await repo.insert_mandate(
        session,
        id=ledger_repo.new_id(),
        account_id=account["id"],
        grantee=grantee,
        may_debit=may_debit,
        may_read=may_read,
        max_per_payment=max_per_payment,
        max_per_period=max_per_period,
        period=period.value,
        expires_at=expires_at,
        purpose=purpose,
        created_by=who.principal,
    )


async def revoke_mandate(
    session: AsyncSession, who: Actor, account: Mapping[str, Any], mandate_id: UUID
) -> RowMapping:
    ensure_holder_or_operator(who, account, act="revoke its mandates")
    row = await repo.get_mandate(session, account["id"], mandate_id, lock=True)
    if row is None:
        raise NotFound(f"no mandate {mandate_id} on account {account['id']}")
    now = datetime.now(UTC)
    check_revocable(_mandate(row), now)
    return await repo.revoke_mandate(session, mandate_id, by=who.principal, at=now)


# --- grant links ----------------------------------------------------------------------------


async def link_grant(
    session: AsyncSession,
    who: Actor,
    account: Mapping[str, Any],
    *,
    programme_code: str,
    application_id: str,
) -> RowMapping:
    """The holder of ``account`` names it as where the application's grant is paid.

    Only the holder (or the operator, for a member without an app) may link; once linked,
    an application's account does not change silently: another account is a 409.
    """
    ensure_holder_or_operator(who, account, act="link it to a grant application")
    existing = await repo.get_grant_link(
        session, programme_code=programme_code, application_id=application_id
    )
    if existing is not None:
        if existing["account_id"] == account["id"]:
            return existing
        raise GrantLinkConflict(
            f"application {application_id} of {programme_code} is linked to another account",
            application_id=application_id,
        )
    return await repo.insert_grant_link(
        session,
        programme_code=programme_code,
        application_id=application_id,
        account_id=account["id"],
        linked_by=who.principal,
    )
