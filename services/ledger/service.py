"""Use cases of the ledger: check with the pure domain, then write through the repository.

Every function runs inside the caller's unit of work (one request, or one event handled)
and only flushes; a raised domain error rolls the whole unit back, so a refused operation
writes nothing. The events a change causes go to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.account_lookup import require_account
from services.ledger.accounts.errors import (
    BalanceLimitExceeded,
    CreditLimitExceeded,
    CurrencyMismatch,
    InsufficientFunds,
    UnknownAccount,
)
from services.ledger.accounts.rules import (
    AccountStatus,
    AccountType,
    bounds_for,
    check_bounds,
    check_closable,
    check_credit_limit,
    check_postable,
    transition_status,
)
from services.ledger.authority import service as authority
from services.ledger.authority.rules import OPERATOR_KINDS, Actor
from services.ledger.closings.errors import PeriodClosed
from services.ledger.conversions import check_reserves
from services.ledger.currencies.errors import CurrencyExists, UnknownCurrency
from services.ledger.currencies.rules.currency import (
    DEFAULT_MAX_BACKDATING_DAYS,
    CreditLimitPolicy,
    CurrencyKind,
    CurrencyRules,
    DemurragePeriod,
    DemurrageRule,
    ReconversionFees,
)
from services.ledger.outbox_rows import posted_rows, posted_transaction
from services.ledger.store import cards as cap_store
from services.ledger.store import programmes as programme_store
from services.ledger.store import repository as repo
from services.ledger.transactions.errors import (
    AlreadyReversed,
    DebtCapExceeded,
    MonthlyLoadCapExceeded,
    VoucherCreditRestricted,
)
from services.ledger.transactions.rules import Posting, reversal_of, validate_transaction
from shared.events.catalog.ledger import (
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountReactivated,
    CurrencyCreated,
    TransactionReversed,
)
from shared.events.outbox import record_event
from shared.events.registry import EventPayload
from shared.problems import NotFound

SOURCE = "/proxima/ledger"
STATUS_EVENTS: dict[AccountStatus, type[AccountFrozen | AccountReactivated | AccountClosed]] = {
    AccountStatus.FROZEN: AccountFrozen,
    AccountStatus.ACTIVE: AccountReactivated,
    AccountStatus.CLOSED: AccountClosed,
}


async def emit(session: AsyncSession, payload: EventPayload, subject: str) -> None:
    await record_event(session, payload, source=SOURCE, subject=subject)


# --- currencies ---------------------------------------------------------------------------


def rules_from(code: str, kind: str, scale: int, rules: Mapping[Any, Any]) -> CurrencyRules:
    """Build (and so validate) a currency's rules from their stored JSON form."""
    fees = rules.get("reconversion_fees") or {}
    demurrage = rules.get("demurrage")
    credit = rules.get("credit_limit")
    return CurrencyRules(
        code=code,
        kind=CurrencyKind(kind),
        scale=scale,
        convertible=bool(rules.get("convertible", False)),
        issuance_bonus_bp=int(rules.get("issuance_bonus_bp", 0)),
        reconversion_fees=ReconversionFees(
            default_bp=int(fees.get("default_bp", 0)), by_category=fees.get("by_category") or {}
        ),
        individual_reconversion=bool(rules.get("individual_reconversion", False)),
        demurrage=DemurrageRule(
            rate_ppm=demurrage["rate_ppm"], period=DemurragePeriod(demurrage["period"])
        )
        if demurrage
        else None,
        credit_limit=CreditLimitPolicy(**credit) if credit else None,
        max_balance=rules.get("max_balance"),
        monthly_load_cap=rules.get("monthly_load_cap"),
        four_eyes_threshold=rules.get("four_eyes_threshold"),
        max_backdating_days=rules.get("max_backdating_days", DEFAULT_MAX_BACKDATING_DAYS),
    )


async def create_currency(
    session: AsyncSession, *, code: str, kind: str, scale: int, operator: str, rules: dict[str, Any]
) -> RowMapping:
    rules_from(code, kind, scale, rules)
    row = await repo.insert_currency(
        session, code=code, kind=kind, scale=scale, operator=operator, rules=rules
    )
    if row is None:
        raise CurrencyExists(f"currency {code} already exists", currency=code)
    await emit(session, CurrencyCreated(currency=code, kind=kind, operator=operator), code)
    return row


async def currency_rules(session: AsyncSession, code: str) -> CurrencyRules:
    row = await repo.get_currency(session, code)
    if row is None:
        raise UnknownCurrency(f"no currency {code}", currency=code)
    return rules_from(row["code"], row["kind"], row["scale"], row["rules"])


# --- accounts -----------------------------------------------------------------------------


async def open_account(
    session: AsyncSession,
    *,
    currency: str,
    account_type: AccountType,
    credit_limit: int | None,
    holder: str,
    **values: Any,
) -> RowMapping:
    """Open an account held by ``holder`` (a client id): the principal that may debit it
    and read it without a mandate (`services.ledger.authority`)."""
    rules = await currency_rules(session, currency)
    if credit_limit is None:
        credit_limit = rules.credit_limit.default_limit if rules.credit_limit else 0
    bounds = bounds_for(account_type=account_type, rules=rules, credit_limit=credit_limit)
    account_id = repo.new_id()
    await repo.insert_account(
        session,
        lower=bounds.lower,
        upper=bounds.upper,
        id=account_id,
        currency=currency,
        type=account_type.value,
        credit_limit=credit_limit,
        holder=holder,
        **values,
    )
    row = await repo.get_account(session, account_id)
    assert row is not None
    await emit(
        session,
        AccountOpened(
            account_id=str(account_id),
            currency=currency,
            account_type=account_type.value,
            territory=row["territory"],
        ),
        str(account_id),
    )
    return row


async def change_status(
    session: AsyncSession, account: RowMapping, target: AccountStatus
) -> RowMapping:
    account = await require_account(session, account["id"], lock=True)
    transition_status(AccountStatus(account["status"]), target)
    if target is AccountStatus.CLOSED:
        check_closable(posted=account["posted"], held=account["held"])
    await repo.set_account_status(session, account["id"], target.value)
    event = STATUS_EVENTS[target](account_id=str(account["id"]))
    await emit(session, event, str(account["id"]))
    return await require_account(session, account["id"])


async def change_credit_limit(
    session: AsyncSession, account: RowMapping, *, credit_limit: int, reason: str, changed_by: str
) -> RowMapping:
    account = await require_account(session, account["id"], lock=True)
    rules = await currency_rules(session, account["currency"])
    check_credit_limit(rules=rules, credit_limit=credit_limit)
    bounds = bounds_for(
        account_type=AccountType(account["type"]), rules=rules, credit_limit=credit_limit
    )
    lower = bounds.lower
    if lower is not None and account["posted"] - account["held"] < lower:
        raise CreditLimitExceeded(
            "the account is already below the new limit; settle it first",
            available=account["posted"] - account["held"],
            lower_bound=lower,
        )
    await repo.set_credit_limit(
        session,
        account_id=account["id"],
        old_limit=account["credit_limit"],
        new_limit=credit_limit,
        lower=lower,
        reason=reason,
        changed_by=changed_by,
    )
    return await require_account(session, account["id"])


# --- transactions ---------------------------------------------------------------------------

_currency_kinds: dict[tuple[str, str], str] = {}


async def currency_kind(session: AsyncSession, code: str) -> str | None:
    """A currency's kind, cached per database: kinds never change once created."""
    key = (str(session.get_bind().engine.url), code)
    kind = _currency_kinds.get(key)
    if kind is None:
        row = await repo.get_currency(session, code)
        if row is None:
            return None
        kind = _currency_kinds[key] = str(row["kind"])
    return kind


async def check_voucher_debits(
    session: AsyncSession, legs: Sequence[Posting], locked: Mapping[UUID, Mapping[Any, Any]]
) -> None:
    """Refuse debiting a member account of a voucher currency outside the programme paths.

    Why: a beneficiary's voucher balance is the sum of its credit lots; only purchases
    (which draw on lots) and expiry sweeps may take it out, or lots and balance would drift
    apart and the sweep could no longer return expired credit.
    """
    for leg in legs:
        account = locked.get(leg.account_id)
        if leg.amount >= 0 or account is None or account["type"] != AccountType.MEMBER.value:
            continue
        if await currency_kind(session, account["currency"]) == CurrencyKind.VOUCHER.value:
            raise VoucherCreditRestricted(
                "voucher credit of a beneficiary is spent through the programme's purchases",
                account_id=str(leg.account_id),
            )


def check_legs(legs: Sequence[Posting], locked: Mapping[UUID, Mapping[Any, Any]]) -> None:
    """Refuse legs on unknown, closed or frozen accounts, wrong currencies, or out of bounds."""
    for leg in legs:
        account = locked.get(leg.account_id)
        if account is None:
            raise UnknownAccount(f"no account {leg.account_id}", account_id=str(leg.account_id))
        check_postable(
            status=AccountStatus(account["status"]),
            delta=leg.amount,
            account_currency=account["currency"],
            posting_currency=leg.currency,
        )
        check_bounds(
            posted=account["posted"],
            held=account["held"],
            delta=leg.amount,
            lower=account["lower_bound"],
            upper=account["upper_bound"],
        )


def debt_may_grow(legs: Sequence[Posting], locked: Mapping[UUID, Mapping[Any, Any]]) -> bool:
    """True if a debit takes a bounded account below zero: only then can the currency's
    total debt grow, so only then is the debt cap checked before commit (two statements,
    never on a transfer between positive balances)."""
    return any(
        leg.amount < 0
        and locked[leg.account_id]["lower_bound"] is not None
        and locked[leg.account_id]["posted"] + leg.amount < 0
        for leg in legs
    )


async def enforce_debt_caps(session: AsyncSession) -> None:
    """Run the (deferred) mutual-credit debt-cap check now, so a breach is this request's
    409 rather than a failed commit."""
    try:
        await cap_store.check_debt_caps_now(session)
    except IntegrityError as exc:
        raise bounds_error(exc) from exc


def bounds_error(exc: IntegrityError) -> Exception:
    """The domain error for a CHECK constraint the database enforced, else ``exc`` itself.

    The two caps exist only in the database (counter rows updated by triggers in the
    posting's transaction, see migration ``ledger_0008``), so this is where they surface.
    """
    name = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None) or ""
    if name == "ck_account_monthly_loads_cap":
        return MonthlyLoadCapExceeded(
            "credits received this calendar month (UTC) would exceed the currency's "
            "monthly load cap"
        )
    if name == "ck_currency_debt_cap":
        return DebtCapExceeded(
            "the sum of negative balances of the currency would exceed its max_total_debt"
        )
    if name.endswith("lower_bound"):
        return InsufficientFunds("the database refused a balance below its lower bound")
    if name.endswith("upper_bound"):
        return BalanceLimitExceeded("the database refused a balance above its upper bound")
    if name.startswith("fk_postings_account_id"):
        return CurrencyMismatch("a posting's currency differs from its account's")
    if name == "ck_postings_period_open":
        return PeriodClosed("the database refused a transaction dated in a closed period")
    return exc


def transaction_view(tx: Mapping[Any, Any], legs: Sequence[repo.Leg]) -> dict[str, Any]:
    return {
        "id": str(tx["id"]),
        "kind": tx["kind"],
        "effective_date": tx["effective_date"].isoformat(),
        "inserted_at": tx["inserted_at"].isoformat(),
        "description": tx["description"],
        "metadata": tx["metadata"],
        "reverses": str(tx["reverses"]) if tx["reverses"] else None,
        "postings": [
            {"account_id": str(account), "currency": currency, "amount": amount}
            for account, currency, amount in legs
        ],
    }


async def post(
    session: AsyncSession,
    *,
    actor: Actor,
    legs: Sequence[Posting],
    kind: str = "transfer",
    effective_date: date | None = None,
    description: str = "",
    metadata: Mapping[Any, Any] | None = None,
    reverses: UUID | None = None,
    idempotency_key: str | None = None,
    programme_debit: bool = False,
) -> dict[str, Any]:
    """Post one balanced transaction as ``actor``; returns its JSON view.

    Every debit leg needs ``actor``'s authority over its account (`authority.service`); the
    authority rows go in with the postings.

    ``programme_debit`` is set only by programme purchases and expiry sweeps, which may
    debit a voucher beneficiary (see ``check_voucher_debits``).
    """
    canonical = validate_transaction(legs)
    locked = await repo.lock_accounts(session, (leg.account_id for leg in canonical))
    # Authority first: a caller without it learns nothing of the account's state (no 409
    # "insufficient funds" where the answer is "not yours").
    grants = await authority.authorize_debits(session, actor, canonical, locked)
    check_legs(canonical, locked)
    if not programme_debit:
        await check_voucher_debits(session, canonical, locked)
    tx_id = repo.new_id()
    rows = [(leg.account_id, leg.currency, leg.amount) for leg in canonical]
    # No savepoint: a refused insert aborts the caller's unit of work, which is what every
    # caller wants except per-item batches and reversals, which open their own savepoint.
    effective = effective_date or datetime.now(UTC).date()
    # The events go out with the transaction's own INSERT (one round trip); a refusal
    # below rolls them back with it.
    event = posted_transaction(
        tx_id=tx_id,
        kind=kind,
        effective_date=effective,
        reverses=reverses,
        legs=canonical,
        accounts=locked,
    )
    try:
        tx = await repo.insert_transaction(
            session,
            legs=rows,
            authorities=authority.authority_rows(grants),
            outbox=posted_rows([event], source=SOURCE),
            id=tx_id,
            kind=kind,
            effective_date=effective,
            description=description,
            metadata=dict(metadata or {}),
            client_id=actor.principal,
            idempotency_key=idempotency_key,
            reverses=reverses,
        )
    except IntegrityError as exc:
        raise bounds_error(exc) from exc
    if debt_may_grow(canonical, locked):
        await enforce_debt_caps(session)
    if tx["touches_reserve"]:
        await check_reserves(session, list(locked))
    return transaction_view(tx, rows)


async def load_transaction(session: AsyncSession, transaction_id: UUID) -> dict[str, Any]:
    found = (await repo.transactions_with_legs(session, [transaction_id])).get(transaction_id)
    if found is None:
        raise NotFound(f"no transaction {transaction_id}")
    tx, legs = found
    return transaction_view(tx, legs)


async def reverse(
    session: AsyncSession,
    *,
    original: dict[str, Any],
    actor: Actor,
    description: str,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Post the exact opposite of ``original``, linked to it; a transaction reverses once.

    It debits the original's payees, so it needs the same authority over them as any
    debit (the payee refunding, its mandate, or the operator); an operator act (issuance,
    reconversion, demurrage, a grant payment, programme credits) is reversed only by the
    operator of every currency it touches.
    """
    original_id = UUID(original["id"])
    if original["kind"] in OPERATOR_KINDS or original["kind"] == "reversal":
        for currency in sorted({p["currency"] for p in original["postings"]}):
            authority.ensure_operator(actor, currency, act=f"reversing a {original['kind']}")
    if await programme_store.is_programme_movement(session, original_id):
        raise VoucherCreditRestricted(
            "programme credits, purchases and expiries are not reversed: their lots would no "
            "longer match the balances",
            transaction_id=str(original_id),
        )
    if await repo.reversal_of(session, original_id) is not None:
        raise AlreadyReversed(f"transaction {original_id} is already reversed")
    legs = reversal_of(
        Posting(account_id=UUID(p["account_id"]), currency=p["currency"], amount=p["amount"])
        for p in original["postings"]
    )
    try:
        async with session.begin_nested():
            view = await post(
                session,
                actor=actor,
                legs=legs,
                kind="reversal",
                description=description or f"reversal of {original_id}",
                metadata={"reverses_kind": original["kind"]},
                reverses=original_id,
                idempotency_key=idempotency_key,
            )
    except IntegrityError as exc:
        # Two concurrent reversals: the unique constraint on ``reverses`` lets one win.
        raise AlreadyReversed(f"transaction {original_id} is already reversed") from exc
    await emit(
        session,
        TransactionReversed(transaction_id=str(original_id), reversal_id=view["id"]),
        str(original_id),
    )
    return view
