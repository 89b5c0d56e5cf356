"""Voucher programmes on the ledger: rules, credit grants, purchases, expiry sweeps, report.

The pure rules live in ``domain.programmes``; this module loads lots, asks the domain, and
posts ordinary ledger transactions (so TransactionPosted flows as for any transfer), while
``credit_lots`` and ``lot_draws`` keep the sub-ledger of whose money it is and until when.

Decisions:
- Category caps apply per beneficiary over a window: the calendar month or year (UTC) or the
  whole programme, as the programme says.
- A purchase's category is the one asked, else the merchant account's own category.
- Purchases lock the beneficiary's open lots before checking the cap, so two concurrent
  purchases of one beneficiary cannot both pass it.
- An expiry sweep returns each expired lot's remainder to the funder that granted it (one
  transaction per beneficiary and funder), so the report can say what came back to whom.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts.errors import CurrencyMismatch
from services.ledger.accounts.rules import AccountType
from services.ledger.accounts.service import named_account
from services.ledger.authority.rules import Actor
from services.ledger.currencies.rules.currency import CurrencyKind
from services.ledger.currencies.service.registry import currency_rules
from services.ledger.database.outbox import emit
from services.ledger.programmes import rules as dom
from services.ledger.programmes.errors import (
    CategoryNotAllowed,
    FunderNotApproved,
    InvalidLotExpiry,
    InvalidProgrammeAccount,
    NotAVoucherCurrency,
    ProgrammeNotConfigured,
)
from services.ledger.store import programmes as store
from services.ledger.store import reimbursements as reimbursement_store
from services.ledger.transactions.rules import transfer
from services.ledger.transactions.service.single import lock_accounts, post
from shared.events.catalog.ledger import VoucherLotExpired
from shared.ids import uuid7

SWEEP_BATCH = 1_000
MERCHANT_TYPES = frozenset({AccountType.MERCHANT})
FUNDER_TYPES = frozenset({AccountType.PROGRAMME, AccountType.FUND})
BENEFICIARY_TYPES = frozenset({AccountType.MEMBER})


def now_utc() -> datetime:
    return datetime.now(UTC)


async def require_voucher(session: AsyncSession, currency: str) -> None:
    rules = await currency_rules(session, currency)
    if rules.kind is not CurrencyKind.VOUCHER:
        raise NotAVoucherCurrency(f"{currency} is not a voucher currency", currency=currency)


async def _account(
    session: AsyncSession,
    account_id: UUID,
    *,
    currency: str,
    types: frozenset[AccountType],
    role: str,
) -> RowMapping:
    row = await named_account(session, account_id, role=role)
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
    found = await store.get_programme(session, currency)
    if found is None:
        raise ProgrammeNotConfigured(f"{currency} has no programme", currency=currency)
    return Programme(*found)


async def configure(
    session: AsyncSession,
    *,
    currency: str,
    allowed_categories: Sequence[str],
    category_caps: dict[str, int],
    cap_period: str,
    merchants: Sequence[UUID],
    funders: Sequence[UUID],
) -> dict[str, Any]:
    """Set (or replace) the programme of a voucher currency."""
    await require_voucher(session, currency)
    dom.ProgrammeRules(  # validates categories and caps
        approved_merchants=frozenset(merchants),
        allowed_categories=frozenset(allowed_categories),
        category_caps=category_caps,
    )
    for merchant in merchants:
        await _account(session, merchant, currency=currency, types=MERCHANT_TYPES, role="merchant")
    for funder in funders:
        await _account(session, funder, currency=currency, types=FUNDER_TYPES, role="funder")
    await store.upsert_programme(
        session,
        currency=currency,
        allowed_categories=sorted(set(allowed_categories)),
        category_caps=category_caps,
        cap_period=cap_period,
        merchants=merchants,
        funders=funders,
    )
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


async def grant(
    session: AsyncSession,
    *,
    currency: str,
    funder: UUID,
    beneficiary: UUID,
    amount: int,
    expires_at: datetime,
    categories: Sequence[str] | None,
    actor: Actor,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Move ``amount`` from a funder to a beneficiary as one lot expiring at ``expires_at``.

    ``metadata`` adds to the transaction's (a grant paid for funding names its order).
    """
    programme = await load_programme(session, currency)
    if funder not in programme.funders:
        raise FunderNotApproved(f"{funder} is not a funder of {currency}", account_id=str(funder))
    await _account(
        session, beneficiary, currency=currency, types=BENEFICIARY_TYPES, role="beneficiary"
    )
    if expires_at <= now_utc():
        raise InvalidLotExpiry("a lot must expire in the future", expires_at=str(expires_at))
    earmarked = None if categories is None else frozenset(categories)
    if earmarked is not None:
        stray = sorted(earmarked - programme.rules.allowed_categories)
        if stray or not earmarked:
            raise CategoryNotAllowed(
                "a lot may only be earmarked for allowed categories", stray=stray
            )
    legs = transfer(currency=currency, source=funder, destination=beneficiary, amount=amount)
    lot_id = uuid7()
    tx = await post(
        session,
        actor=actor,
        legs=legs,
        kind="programme_credit",
        description="programme credit",
        metadata={
            **(metadata or {}),
            "lot_id": str(lot_id),
            "expires_at": expires_at.isoformat(),
        },
    )
    lot = await store.insert_lot(
        session,
        id=lot_id,
        currency=currency,
        beneficiary=beneficiary,
        funder=funder,
        amount=amount,
        remaining=amount,
        expires_at=expires_at,
        categories=sorted(earmarked) if earmarked is not None else None,
        grant_transaction=UUID(tx["id"]),
    )
    return {"lot": lot_view(lot), "transaction": tx}


def _lot(row: RowMapping) -> dom.CreditLot:
    return dom.CreditLot(
        lot_id=row["id"],
        funder=row["funder"],
        remaining=row["remaining"],
        expires_at=row["expires_at"],
        categories=frozenset(row["categories"]) if row["categories"] is not None else None,
    )


async def purchase(
    session: AsyncSession,
    *,
    currency: str,
    beneficiary: UUID,
    merchant: UUID,
    amount: int,
    category: str | None,
    actor: Actor,
) -> dict[str, Any]:
    """Pay an approved merchant from the beneficiary's lots, earliest expiry first."""
    programme = await load_programme(session, currency)
    await _account(
        session, beneficiary, currency=currency, types=BENEFICIARY_TYPES, role="beneficiary"
    )
    shop = await named_account(session, merchant, role="merchant")
    category = category or shop["merchant_category"]
    if category is None:
        raise CategoryNotAllowed("no category given and the merchant has none")
    now = now_utc()
    rows = await store.lock_open_lots(session, beneficiary=beneficiary)
    spent = await store.spent_in_category(
        session,
        beneficiary=beneficiary,
        category=category,
        since=programme.window_start(now),
    )
    dom.check_purchase(
        rules=programme.rules,
        merchant=merchant,
        category=category,
        amount=amount,
        spent_in_category=spent,
    )
    consumption = dom.consume_lots(
        [_lot(row) for row in rows], amount=amount, category=category, now=now
    )
    funders = sorted({str(d.funder) for d in consumption.draws})
    tx = await post(
        session,
        actor=actor,
        legs=dom.purchase_postings(
            currency=currency, beneficiary=beneficiary, merchant=merchant, consumption=consumption
        ),
        kind="programme_purchase",
        programme_debit=True,
        description=f"programme purchase: {category}",
        metadata={"category": category, "funders": ",".join(funders)},
    )
    await store.draw(
        session,
        transaction_id=UUID(tx["id"]),
        kind="purchase",
        draws=[(d.lot_id, d.amount) for d in consumption.draws],
        category=category,
        merchant=merchant,
    )
    return {
        "category": category,
        "transaction": tx,
        "draws": [
            {"lot_id": str(d.lot_id), "funder_account_id": str(d.funder), "amount": d.amount}
            for d in consumption.draws
        ],
    }


async def sweep(session: AsyncSession, *, currency: str, actor: Actor) -> dict[str, Any]:
    """Return what expired lots still hold to their funders; a second call finds nothing."""
    await load_programme(session, currency)
    now = now_utc()
    rows = await store.lock_due_lots(session, currency=currency, now=now, limit=SWEEP_BATCH + 1)
    more = len(rows) > SWEEP_BATCH
    rows = rows[:SWEEP_BATCH]
    groups: dict[tuple[UUID, UUID], list[RowMapping]] = defaultdict(list)
    for row in rows:
        groups[(row["beneficiary"], row["funder"])].append(row)
    # Every balance the sweep moves, locked at once in id order (after the lots, as purchases
    # do): posting group by group would otherwise lock them in an order a grant may cross.
    await lock_accounts(session, (account for group in groups for account in group))
    transactions = 0
    swept_total = 0
    for (beneficiary, funder), lots in sorted(groups.items()):
        swept = dom.sweep_expired([_lot(row) for row in lots], now=now)
        legs = dom.expiry_postings(
            currency=currency, beneficiary=beneficiary, programme_fund=funder, sweep=swept
        )
        if not legs:
            continue
        tx = await post(
            session,
            actor=actor,
            legs=legs,
            kind="programme_expiry",
            programme_debit=True,
            description="expired programme credit returned to its funder",
            metadata={"lots": ",".join(str(d.lot_id) for d in swept.draws)},
        )
        await store.draw(
            session,
            transaction_id=UUID(tx["id"]),
            kind="expiry",
            draws=[(d.lot_id, d.amount) for d in swept.draws],
        )
        for d in swept.draws:
            await emit(
                session,
                VoucherLotExpired(
                    lot_id=str(d.lot_id),
                    currency=currency,
                    beneficiary_account_id=str(beneficiary),
                    funder_account_id=str(funder),
                    amount=d.amount,
                    transaction_id=tx["id"],
                ),
                str(d.lot_id),
            )
        transactions += 1
        swept_total += swept.total
    return {
        "currency": currency,
        "lots_swept": len(rows),
        "transactions": transactions,
        "amount_swept": swept_total,
        "more": more,
    }


async def report(
    session: AsyncSession, *, currency: str, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """Per funder: granted, spent by category and by merchant, swept back, reimbursed to
    merchants in euros from the funder's euro account, still open."""
    await load_programme(session, currency)
    now = now_utc()
    funders = await store.funders_page(
        session, currency=currency, after=after, limit=limit, now=now
    )
    draws = await store.draws_by_funder(
        session, currency=currency, funders=[f["funder"] for f in funders]
    )
    reimbursed = await reimbursement_store.reimbursed_by_funder(
        session, currency=currency, funders=[f["funder"] for f in funders]
    )
    by_funder: dict[UUID, list[RowMapping]] = defaultdict(list)
    for d in draws:
        by_funder[d["funder"]].append(d)
    items = []
    for f in funders:
        categories: dict[str, int] = defaultdict(int)
        merchants: dict[str, int] = defaultdict(int)
        swept = 0
        for d in by_funder[f["funder"]]:
            if d["kind"] == "expiry":
                swept += int(d["amount"])
                continue
            categories[d["category"]] += int(d["amount"])
            merchants[str(d["merchant"])] += int(d["amount"])
        items.append(
            {
                "funder_account_id": str(f["funder"]),
                "lots": int(f["lots"]),
                "granted": int(f["granted"]),
                "spent": sum(categories.values()),
                "swept": swept,
                "reimbursed": reimbursed.get(f["funder"], 0),
                "outstanding": int(f["outstanding"]),
                "expired_unswept": int(f["expired_unswept"]),
                "by_category": [
                    {"category": k, "amount": v} for k, v in sorted(categories.items())
                ],
                "by_merchant": [
                    {"merchant_account_id": k, "amount": v} for k, v in sorted(merchants.items())
                ],
            }
        )
    return items


async def lots(
    session: AsyncSession,
    *,
    currency: str,
    beneficiary: UUID | None,
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    await require_voucher(session, currency)
    rows = await store.list_lots(
        session, currency=currency, beneficiary=beneficiary, after=after, limit=limit
    )
    return [lot_view(row) for row in rows]
