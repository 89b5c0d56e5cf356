"""Postings and the rules that make a set of postings a valid double-entry transaction.

A posting moves ``amount`` minor units of ``currency`` into (positive) or out of (negative)
one account. A transaction is valid when it has at least two postings, every amount is a
non-zero integer, the postings of each currency sum to zero (money never appears or
disappears), and each account appears at most once.

Why at most once: two postings on one account in one transaction carry no information the
net amount does not, make statements confusing ("paid 10, paid -3"), and let the database
enforce ``UNIQUE (transaction_id, account_id)``. Callers that build movements piece by
piece can merge them first (``merge_postings``), knowingly.

Validated postings come back sorted by (currency, account id). Why: one canonical form
makes idempotency-key body comparison and the audit hash independent of the client's order,
and locking accounts in that order prevents deadlocks between concurrent transactions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.ledger.accounts.errors import (
    BalanceLimitExceeded,
    CurrencyMismatch,
    InsufficientFunds,
    UnknownAccount,
)
from services.ledger.accounts.rules import AccountStatus, check_bounds, check_postable
from services.ledger.clearing.errors import ClearingAccountReserved
from services.ledger.closings.errors import PeriodClosed
from services.ledger.errors import LedgerDomainError
from services.ledger.transactions.errors import (
    DebtCapExceeded,
    DuplicateAccountPosting,
    InvalidAmount,
    MonthlyLoadCapExceeded,
    TooFewPostings,
    UnbalancedTransaction,
)

MAX_AMOUNT = 10**15
"""Largest absolute amount of one posting, in minor units.

Why: 10^15 cents is ten trillion euros, far above any real movement, and stays below 2^53 so
amounts and balances survive JSON clients that parse numbers as doubles, and far from the
int64 (PostgreSQL ``bigint``) limit even after many postings.
"""


def check_amount(amount: int, *, allow_zero: bool = False) -> int:
    """Return ``amount`` if it is an integer (not bool) within ``MAX_AMOUNT``, else refuse."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount("amounts are integers in minor units", amount=repr(amount))
    if amount == 0 and not allow_zero:
        raise InvalidAmount("amount must not be zero", amount=amount)
    if abs(amount) > MAX_AMOUNT:
        raise InvalidAmount(f"amount must not exceed {MAX_AMOUNT} in absolute value")
    return amount


def check_positive(amount: int) -> int:
    """Return ``amount`` if it is a positive integer within range, else refuse."""
    check_amount(amount)
    if amount < 0:
        raise InvalidAmount("amount must be positive", amount=amount)
    return amount


@dataclass(frozen=True, slots=True)
class Posting:
    """A signed movement of one currency on one account; positive credits the account."""

    account_id: UUID
    currency: str
    amount: int

    def __post_init__(self) -> None:
        check_amount(self.amount)
        if not isinstance(self.currency, str) or not self.currency:
            raise InvalidAmount("a posting needs a currency code", currency=repr(self.currency))
        if not isinstance(self.account_id, UUID):
            raise TypeError(f"account_id must be a UUID, got {type(self.account_id).__name__}")

    def negated(self) -> Posting:
        """The same movement in the opposite direction."""
        return Posting(account_id=self.account_id, currency=self.currency, amount=-self.amount)


def imbalances(postings: Iterable[Posting]) -> dict[str, int]:
    """Per-currency sums that are not zero (empty when balanced)."""
    sums: defaultdict[str, int] = defaultdict(int)
    for posting in postings:
        sums[posting.currency] += posting.amount
    return {currency: total for currency, total in sorted(sums.items()) if total != 0}


def validate_transaction(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    """Check the double-entry rules and return the postings in canonical order."""
    items = tuple(postings)
    if len(items) < 2:
        raise TooFewPostings(f"got {len(items)} posting(s)", count=len(items))
    counts = Counter(p.account_id for p in items)
    duplicates = sorted(str(account) for account, n in counts.items() if n > 1)
    if duplicates:
        raise DuplicateAccountPosting(
            "merge the postings of each account into one", accounts=duplicates
        )
    off = imbalances(items)
    if off:
        raise UnbalancedTransaction("postings of each currency must sum to zero", imbalances=off)
    return canonical_order(items)


def canonical_order(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    """Postings sorted by (currency, account id, amount): the one order used everywhere."""
    return tuple(sorted(postings, key=lambda p: (p.currency, p.account_id, p.amount)))


def merge_postings(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    """Sum postings per (currency, account), dropping those that net to zero; sorted."""
    return tuple(
        Posting(account_id=account, currency=currency, amount=amount)
        for (currency, account), amount in sorted(net_by_account(postings).items())
        if amount != 0
    )


def transfer(
    *, currency: str, source: UUID, destination: UUID, amount: int
) -> tuple[Posting, Posting]:
    """The (debit, credit) postings moving a positive ``amount`` from source to destination."""
    check_positive(amount)
    if source == destination:
        raise DuplicateAccountPosting("source and destination are the same account")
    return (
        Posting(account_id=source, currency=currency, amount=-amount),
        Posting(account_id=destination, currency=currency, amount=amount),
    )


def reversal_of(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    """The postings that exactly undo a valid transaction (append-only correction)."""
    return validate_transaction(p.negated() for p in postings)


def net_by_account(postings: Iterable[Posting]) -> dict[tuple[str, UUID], int]:
    """Net amount per (currency, account) over any number of postings."""
    sums: defaultdict[tuple[str, UUID], int] = defaultdict(int)
    for posting in postings:
        sums[(posting.currency, posting.account_id)] += posting.amount
    return dict(sums)


# --- legs against the locked accounts they move ------------------------------------------


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


def constraint_refusal(name: str) -> LedgerDomainError | None:
    """The domain error for the constraint ``name`` the database enforced on a posting, or
    None for a constraint that is no rule of the ledger's.

    The two caps exist only in the database (counter rows updated by triggers in the
    posting's transaction, see migration ``ledger_0008``), so this is where they surface.
    """
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
    if name == "ck_clearing_account_movement":
        return ClearingAccountReserved(
            "un compte de compensation ne bouge que par les paiements et règlements de compensation"
        )
    if name == "ck_postings_period_open":
        return PeriodClosed("the database refused a transaction dated in a closed period")
    return None
