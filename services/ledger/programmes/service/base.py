"""What every programme use case starts from: the voucher currency, its configured
programme, and the accounts it names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.accounts.errors import CurrencyMismatch
from services.ledger.accounts.rules import AccountType
from services.ledger.currencies.rules.currency import CurrencyKind
from services.ledger.currencies.service.registry import currency_rules
from services.ledger.programmes import repository as repo
from services.ledger.programmes import rules as dom
from services.ledger.programmes.errors import (
    InvalidProgrammeAccount,
    NotAVoucherCurrency,
    ProgrammeNotConfigured,
)
from shared.auth import Principal

MERCHANT_TYPES = frozenset({AccountType.MERCHANT})
FUNDER_TYPES = frozenset({AccountType.PROGRAMME, AccountType.FUND})
BENEFICIARY_TYPES = frozenset({AccountType.MEMBER})


def now_utc() -> datetime:
    return datetime.now(UTC)


async def require_voucher(session: AsyncSession, currency: str) -> None:
    rules = await currency_rules(session, currency)
    if rules.kind is not CurrencyKind.VOUCHER:
        raise NotAVoucherCurrency(f"{currency} is not a voucher currency", currency=currency)


async def programme_account(
    session: AsyncSession,
    account_id: UUID,
    *,
    currency: str,
    types: frozenset[AccountType],
    role: str,
) -> RowMapping:
    row = await accounts.named_account(session, account_id, role=role)
    if row["currency"] != currency:
        raise CurrencyMismatch(
            f"the {role} account does not hold {currency}", account_id=str(account_id)
        )
    if AccountType(row["type"]) not in types:
        raise InvalidProgrammeAccount(
            f"a {role} account must be of type {' or '.join(sorted(types))}",
            account_id=str(account_id),
            role=role,
        )
    return row


class Programme:
    """A configured programme: its domain rules, cap window and funders."""

    def __init__(self, row: RowMapping, merchants: list[UUID], funders: list[UUID]) -> None:
        self.currency: str = row["currency"]
        self.cap_period: str = row["cap_period"]
        self.funders = frozenset(funders)
        self.rules = dom.ProgrammeRules(
            approved_merchants=frozenset(merchants),
            allowed_categories=frozenset(row["allowed_categories"]),
            category_caps={k: int(v) for k, v in row["category_caps"].items()},
        )

    def view(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "allowed_categories": sorted(self.rules.allowed_categories),
            "category_caps": dict(sorted(self.rules.category_caps.items())),
            "cap_period": self.cap_period,
            "approved_merchants": sorted(str(m) for m in self.rules.approved_merchants),
            "funders": sorted(str(f) for f in self.funders),
        }

    def window_start(self, now: datetime) -> datetime | None:
        """Start of the cap window containing ``now``; None for the whole programme."""
        if self.cap_period == "month":
            return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if self.cap_period == "year":
            return now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return None


async def load_programme(session: AsyncSession, currency: str) -> Programme:
    await require_voucher(session, currency)
    found = await repo.get_programme(session, currency)
    if found is None:
        raise ProgrammeNotConfigured(f"{currency} has no programme", currency=currency)
    return Programme(*found)


async def read_programme(
    session: AsyncSession, principal: Principal, currency: str
) -> dict[str, Any]:
    """The voucher currency's programme rules, for a caller of its tenancy."""
    principal.ensure_access("currencies", currency)
    return (await load_programme(session, currency)).view()


def lot_view(row: RowMapping) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "currency": row["currency"],
        "beneficiary_account_id": str(row["beneficiary"]),
        "funder_account_id": str(row["funder"]),
        "amount": row["amount"],
        "remaining": row["remaining"],
        "expires_at": row["expires_at"].isoformat(),
        "categories": sorted(row["categories"]) if row["categories"] is not None else None,
        "grant_transaction_id": str(row["grant_transaction"]),
    }


def credit_lot(row: RowMapping) -> dom.CreditLot:
    return dom.CreditLot(
        lot_id=row["id"],
        funder=row["funder"],
        remaining=row["remaining"],
        expires_at=row["expires_at"],
        categories=frozenset(row["categories"]) if row["categories"] is not None else None,
    )
