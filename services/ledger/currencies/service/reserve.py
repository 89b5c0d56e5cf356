"""The reserve of a euro-backed currency, and the invariant it keeps.

A currency's reserve configuration names its issuer account, the euro account mirroring the
guarantee fund, the euro account standing for the bank outside, and the fund paying bonuses
and receiving fees. Every transaction touching an issuer or a reserve account re-checks, in
the same database transaction and under the balance locks it already holds, that units in
circulation equal the reserve (`check_reserves`, called by the posting path).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.accounts.errors import CurrencyMismatch
from services.ledger.accounts.rules import AccountType
from services.ledger.currencies import repository as repo
from services.ledger.currencies.errors import ConversionNotAllowed
from services.ledger.currencies.rules import conversion
from services.ledger.currencies.service.registry import currency_rules
from shared.auth import Principal


async def check_reserves(session: AsyncSession, account_ids: Sequence[UUID]) -> None:
    """Refuse the transaction if it leaves a touched currency's circulation != its reserve:
    a currency-wide invariant checked after the postings are in."""
    for cfg in await repo.reserves_touching(session, account_ids):
        balances = await repo.posted_balances(
            session, [cfg["issuer_account"], cfg["reserve_account"]]
        )
        conversion.check_reserve(
            units_in_circulation=-balances[cfg["issuer_account"]],
            reserve_balance=balances[cfg["reserve_account"]],
        )


def reserve_view(cfg: Any) -> dict[str, Any]:
    return {
        "currency": cfg["currency"],
        "issuer_account_id": str(cfg["issuer_account"]),
        "reserve_account_id": str(cfg["reserve_account"]),
        "external_account_id": str(cfg["external_account"]),
        "fund_account_id": str(cfg["fund_account"]) if cfg["fund_account"] else None,
    }


async def _typed(
    session: AsyncSession, account_id: UUID, *, types: set[AccountType], role: str
) -> Any:
    row = await accounts.named_account(session, account_id, role=role, lock=True)
    if AccountType(row["type"]) not in types:
        raise ConversionNotAllowed(
            f"the {role} account must be of type {' or '.join(sorted(types))}",
            account_id=str(account_id),
        )
    return row


async def configure_reserve(
    session: AsyncSession,
    *,
    currency: str,
    issuer: UUID,
    reserve: UUID,
    external: UUID,
    fund: UUID | None,
) -> dict[str, Any]:
    """Name the accounts of a euro-backed currency's reserve; they must already agree."""
    rules = await currency_rules(session, currency)
    if not rules.issued_against_euros:
        raise ConversionNotAllowed(f"{currency} is not issued against euros", currency=currency)
    issuer_row = await _typed(session, issuer, types={AccountType.ISSUER}, role="issuer")
    reserve_row = await _typed(session, reserve, types={AccountType.RESERVE}, role="reserve")
    external_row = await _typed(session, external, types={AccountType.ISSUER}, role="external")
    if issuer_row["currency"] != currency:
        raise CurrencyMismatch("the issuer account must hold the currency itself")
    euro = await currency_rules(session, reserve_row["currency"])
    if euro.kind.value != "eur" or external_row["currency"] != reserve_row["currency"]:
        raise CurrencyMismatch("reserve and external accounts must both hold a eur currency")
    if fund is not None:
        fund_row = await _typed(session, fund, types={AccountType.FUND}, role="fund")
        if fund_row["currency"] != currency:
            raise CurrencyMismatch("the fund account must hold the currency itself")
    conversion.check_reserve(
        units_in_circulation=-issuer_row["posted"], reserve_balance=reserve_row["posted"]
    )
    await repo.upsert_reserve(
        session,
        currency=currency,
        issuer_account=issuer,
        reserve_account=reserve,
        external_account=external,
        fund_account=fund,
    )
    cfg = await repo.get_reserve(session, currency)
    return reserve_view(cfg)


async def configure(
    session: AsyncSession,
    principal: Principal,
    *,
    currency: str,
    issuer: UUID,
    reserve: UUID,
    external: UUID,
    fund: UUID | None,
) -> dict[str, Any]:
    """`configure_reserve` by a caller bound to the currency and to its reserve's euros."""
    principal.ensure_access("currencies", currency)
    view = await configure_reserve(
        session, currency=currency, issuer=issuer, reserve=reserve, external=external, fund=fund
    )
    await ensure_reserve_access(session, principal, currency)
    return view


async def require_reserve(session: AsyncSession, currency: str) -> Any:
    cfg = await repo.get_reserve(session, currency)
    if cfg is None:
        raise ConversionNotAllowed(f"{currency} has no reserve configured", currency=currency)
    return cfg


async def euro_code(session: AsyncSession, cfg: Any) -> str:
    row = await accounts.require_account(session, cfg["reserve_account"])
    return str(row["currency"])


async def ensure_reserve_access(session: AsyncSession, principal: Principal, code: str) -> None:
    """The operator needs the currency and the euro currency its reserve is kept in."""
    principal.ensure_access("currencies", code)
    cfg = await require_reserve(session, code)
    principal.ensure_access("currencies", await euro_code(session, cfg))


async def reserve_of(session: AsyncSession, currency: str) -> Any | None:
    """The currency's reserve configuration, or None for a currency without a reserve."""
    return await repo.get_reserve(session, currency)


async def ledger_position(session: AsyncSession, currency: str) -> tuple[int, int]:
    """Units in circulation and the reserve account's balance, as the ledger has them."""
    cfg = await require_reserve(session, currency)
    balances = await repo.posted_balances(session, [cfg["issuer_account"], cfg["reserve_account"]])
    return -balances[cfg["issuer_account"]], balances[cfg["reserve_account"]]


async def reconcile(
    session: AsyncSession, principal: Principal, *, currency: str, reported: int
) -> dict[str, Any]:
    """Circulation, reserve account and the bank's figure side by side, with the drifts."""
    await ensure_reserve_access(session, principal, currency)
    circulating, reserve_balance = await ledger_position(session, currency)
    drift = conversion.reserve_drift(
        units_in_circulation=circulating,
        reserve_balance=reserve_balance,
        reported_bank_balance=reported,
    )
    return {
        "currency": currency,
        "units_in_circulation": drift.units_in_circulation,
        "reserve_balance": drift.reserve_balance,
        "reported_bank_balance": drift.reported_bank_balance,
        "ledger_drift": drift.ledger_drift,
        "bank_drift": drift.bank_drift,
        "balanced": drift.balanced,
    }
