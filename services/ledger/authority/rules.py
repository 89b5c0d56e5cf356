"""Pure rules of account authority: who may debit or read an account, and mandate limits.

No I/O here: `service` loads the accounts (with their holder) and the caller's mandates,
and these functions decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.ledger.authority.errors import (
    InvalidMandate,
    MandateLimitExceeded,
    MandateNotActive,
    NoDebitAuthority,
)

OPERATOR_SCOPE = "ledger:admin"
"""The scope that, with a currency binding, makes a client that currency's operator."""
AUDIT_SCOPE = "ledger:audit"
"""Reads every account of the currencies a client is bound to (an accountant, an auditor)."""

OPERATOR_KINDS = frozenset(
    {
        "issuance",
        "reconversion",
        "demurrage",
        "grant_payment",
        "loan_repayment",
        "guarantee_call",
        "programme_credit",
        "programme_expiry",
        "voucher_reimbursement",
    }
)
"""Transaction kinds that are operator acts: a reversal of one is an operator act too."""


class Basis(StrEnum):
    """Why a debit was allowed; stored with every debit leg (``posting_authorities``)."""

    HOLDER = "holder"
    MANDATE = "mandate"
    OPERATOR = "operator"
    CARD = "card"
    """The payer's card was presented and verified (its number or token, under the
    ledger's card key): the payer's consent, proven in the request."""


class MandatePeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class Actor:
    """Who asks the ledger to move money, as the authority check sees them.

    ``operator_of`` is the set of currencies this actor operates (``None``: every one, the
    platform administrator); ``card_account`` the account whose card the request presented.
    Event handlers act as a named service principal (``funding:<programme>``), operating
    nothing: they move money only under mandates.
    """

    principal: str
    operator_of: frozenset[str] | None = frozenset()
    card_account: UUID | None = None

    def operates(self, currency: str) -> bool:
        return self.operator_of is None or currency in self.operator_of

    def with_card(self, account_id: UUID) -> Actor:
        return Actor(self.principal, self.operator_of, account_id)


def actor_of(
    client_id: str, scopes: frozenset[str], currencies: frozenset[str] | None, *, admin: bool
) -> Actor:
    """The actor of a verified token: an operator of the currencies it is bound to when it
    holds ``ledger:admin`` (``currencies`` None = bound to all)."""
    if admin:
        return Actor(client_id, None)
    if OPERATOR_SCOPE in scopes:
        return Actor(client_id, currencies)
    return Actor(client_id, frozenset())


@dataclass(frozen=True)
class Grant:
    """The authority one debit leg is posted under (one ``posting_authorities`` row)."""

    account_id: UUID
    basis: Basis
    principal: str
    amount: int
    mandate_id: UUID | None = None


def basis_without_mandate(actor: Actor, account: Mapping[str, Any]) -> Basis | None:
    """The basis on which ``actor`` may debit ``account`` without a mandate, or None."""
    if account["holder"] == actor.principal:
        return Basis.HOLDER
    if actor.card_account is not None and actor.card_account == account["id"]:
        return Basis.CARD
    if actor.operates(account["currency"]):
        return Basis.OPERATOR
    return None


def holds_or_operates(actor: Actor, account: Mapping[str, Any]) -> bool:
    """The account's holder or its currency's operator: who may read it without a mandate,
    and who alone may grant mandates on it or link it to a grant."""
    return account["holder"] == actor.principal or actor.operates(account["currency"])


@dataclass(frozen=True)
class Mandate:
    id: UUID
    account_id: UUID
    grantee: str
    may_debit: bool
    max_per_payment: int | None
    max_per_period: int | None
    period: MandatePeriod
    expires_at: datetime
    revoked_at: datetime | None


def mandate_from(row: Mapping[Any, Any]) -> Mandate:
    """A mandate as these rules see it, from its stored row."""
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


def is_active(mandate: Mandate, now: datetime) -> bool:
    return mandate.revoked_at is None and now < mandate.expires_at


def check_mandate_debit(mandate: Mandate, *, amount: int, used: int, now: datetime) -> None:
    """Refuse a debit of ``amount`` under ``mandate`` when ``used`` was already debited
    under it this period."""
    if not mandate.may_debit or not is_active(mandate, now):
        raise NoDebitAuthority("the mandate does not allow debits now", mandate_id=str(mandate.id))
    assert mandate.max_per_payment is not None and mandate.max_per_period is not None
    if amount > mandate.max_per_payment:
        raise MandateLimitExceeded(
            f"{amount} is above the mandate's per-payment limit of {mandate.max_per_payment}",
            mandate_id=str(mandate.id),
            max_per_payment=mandate.max_per_payment,
        )
    if used + amount > mandate.max_per_period:
        raise MandateLimitExceeded(
            f"{used} already debited this {mandate.period.value}; {amount} more would exceed "
            f"the mandate's limit of {mandate.max_per_period}",
            mandate_id=str(mandate.id),
            max_per_period=mandate.max_per_period,
            used_in_period=used,
        )


def check_new_mandate(
    *,
    holder: str,
    grantee: str,
    may_debit: bool,
    may_read: bool,
    max_per_payment: int | None,
    max_per_period: int | None,
    expires_at: datetime,
    now: datetime,
) -> None:
    if grantee == holder:
        raise InvalidMandate("the holder needs no mandate on its own account")
    if not (may_debit or may_read):
        raise InvalidMandate("a mandate allows debiting, reading, or both")
    if may_debit and (max_per_payment is None or max_per_period is None):
        raise InvalidMandate("a debit mandate needs max_per_payment and max_per_period")
    if max_per_payment is not None and max_per_period is not None:
        if max_per_payment > max_per_period:
            raise InvalidMandate("max_per_payment cannot exceed max_per_period")
    if expires_at <= now:
        raise InvalidMandate("a mandate's expiry must be in the future")


def check_revocable(mandate: Mandate, now: datetime) -> None:
    if not is_active(mandate, now):
        raise MandateNotActive(f"mandate {mandate.id} is already revoked or expired")
