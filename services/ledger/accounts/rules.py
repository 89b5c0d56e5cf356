"""Account types, statuses and the balance bounds every movement must respect.

Sign convention (used everywhere in the ledger): an account's balance is the sum of its
postings, seen from the holder. A member holding 50 units has +50. The issuer account, which
creates units, goes negative by exactly the units in circulation, so every currency's
balances sum to zero.

Bounds are checked only in the direction a movement goes: a debit is refused if it takes
the *available* balance (posted - held) below the lower bound, a credit if it takes the
posted balance above the upper bound. An account left outside its bounds (say its credit
limit was lowered) can therefore always move back towards them, and is never stuck.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.ledger.accounts.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotEmpty,
    BalanceLimitExceeded,
    CreditLimitExceeded,
    CreditLimitOutOfPolicy,
    CurrencyMismatch,
    InsufficientFunds,
    InvalidStatusTransition,
)
from services.ledger.currencies.rules.currency import CurrencyRules
from shared import csv_safety


class AccountType(StrEnum):
    """What an account is for; decides its default bounds."""

    MEMBER = "member"
    """An individual (member of the association, card beneficiary)."""
    MERCHANT = "merchant"
    """A business or organisation accepting the currency."""
    ISSUER = "issuer"
    """Source of units (or of euros from outside); its negative balance mirrors issuance."""
    RESERVE = "reserve"
    """Mirror of the euro guarantee fund backing a euro-backed currency."""
    FUND = "fund"
    """Operator money: bonus fund, fee income, demurrage proceeds."""
    PROGRAMME = "programme"
    """A voucher programme's budget, funding beneficiaries' lots and receiving expiries."""


class AccountStatus(StrEnum):
    """Lifecycle of an account; closed is final."""

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


_TRANSITIONS: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.ACTIVE: frozenset({AccountStatus.FROZEN, AccountStatus.CLOSED}),
    AccountStatus.FROZEN: frozenset({AccountStatus.ACTIVE, AccountStatus.CLOSED}),
    AccountStatus.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Bounds:
    """Inclusive balance bounds in minor units; None means unbounded on that side."""

    lower: int | None
    upper: int | None


def bounds_for(*, account_type: AccountType, rules: CurrencyRules, credit_limit: int = 0) -> Bounds:
    """Default bounds of an account of this type in this currency, given its credit limit.

    Issuers may go as negative as needed but never above zero (they only ever hold the
    mirror of what they issued). Members and merchants go down to ``-credit_limit`` where the
    currency allows credit, else to zero; members are capped by ``rules.max_balance``.
    Reserve, fund and programme accounts never go negative.
    """
    check_credit_limit(rules=rules, credit_limit=credit_limit)
    if account_type is AccountType.ISSUER:
        return Bounds(lower=None, upper=0)
    if account_type is AccountType.MEMBER:
        return Bounds(lower=-credit_limit, upper=rules.max_balance)
    if account_type is AccountType.MERCHANT:
        return Bounds(lower=-credit_limit, upper=None)
    return Bounds(lower=0, upper=None)


def check_credit_limit(*, rules: CurrencyRules, credit_limit: int) -> None:
    """Refuse a credit limit that is negative or outside the currency's policy."""
    if credit_limit == 0:
        return
    policy = rules.credit_limit
    if policy is None:
        raise CreditLimitOutOfPolicy(
            f"currency {rules.code} does not allow credit", currency=rules.code
        )
    if not 0 <= credit_limit <= policy.max_limit:
        raise CreditLimitOutOfPolicy(
            f"credit limit must be between 0 and {policy.max_limit}",
            credit_limit=credit_limit,
            max_limit=policy.max_limit,
        )


def check_bounds(
    *, posted: int, held: int, delta: int, lower: int | None, upper: int | None
) -> None:
    """Refuse moving ``posted`` by ``delta`` past a bound in the direction of the move.

    A debit (delta < 0) needs ``posted + delta - held >= lower``; a credit (delta > 0) needs
    ``posted + delta <= upper``. Placing a hold of ``h`` is checked as a debit of ``h``:
    it is the same condition on the available balance.
    """
    if delta < 0 and lower is not None:
        available_after = posted + delta - held
        if available_after < lower:
            error = InsufficientFunds if lower >= 0 else CreditLimitExceeded
            raise error(
                f"available balance would become {available_after}, below {lower}",
                available=posted - held,
                requested=-delta,
                lower_bound=lower,
            )
    if delta > 0 and upper is not None and posted + delta > upper:
        raise BalanceLimitExceeded(
            f"balance would become {posted + delta}, above {upper}",
            balance=posted,
            requested=delta,
            upper_bound=upper,
        )


def check_postable(
    *, status: AccountStatus, delta: int, account_currency: str, posting_currency: str
) -> None:
    """Refuse a posting on a closed account, a debit on a frozen one, or a wrong currency.

    Frozen accounts still receive credits: a blocked lost card must stop spending at once,
    but refunds, reversals and grant payments to it should still land.
    """
    if account_currency != posting_currency:
        raise CurrencyMismatch(
            f"account holds {account_currency}, posting is in {posting_currency}",
            account_currency=account_currency,
            posting_currency=posting_currency,
        )
    if status is AccountStatus.CLOSED:
        raise AccountClosed()
    if status is AccountStatus.FROZEN and delta < 0:
        raise AccountFrozen()


def transition_status(current: AccountStatus, target: AccountStatus) -> AccountStatus:
    """Return ``target`` if an account may go there from ``current``, else refuse."""
    if target not in _TRANSITIONS[current]:
        raise InvalidStatusTransition(
            f"cannot go from {current.value} to {target.value}",
            current=current.value,
            target=target.value,
        )
    return target


def check_closable(*, posted: int, held: int) -> None:
    """Refuse closing an account that still has a balance or open holds."""
    if posted != 0 or held != 0:
        raise AccountNotEmpty(
            "empty the account and settle its holds before closing it",
            balance=posted,
            held=held,
        )


# --- statements as CSV ---------------------------------------------------------------
# An account statement as CSV: one table an accountant can open as is.
#
# The first row is the opening balance, then one row per entry with the running balance,
# then the closing balance; ``line`` says which. Amounts and balances are integers in minor
# units, like everywhere in the API. Text cells that a spreadsheet would run as a formula
# are neutralised (`shared.csv_safety`); amounts stay numbers.

STATEMENT_COLUMNS = (
    "line",
    "at",
    "effective_date",
    "transaction_id",
    "kind",
    "description",
    "amount",
    "balance",
)


def statement_csv(statement: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv_safety.writer(buffer, lineterminator="\r\n")
    writer.writerow(STATEMENT_COLUMNS)
    balance = statement["opening_balance"]
    writer.writerow(["opening", statement["since"].isoformat(), "", "", "", "", "", balance])
    for entry in statement["entries"]:
        balance += entry["amount"]
        writer.writerow(
            [
                "entry",
                entry["inserted_at"].isoformat(),
                entry["effective_date"].isoformat(),
                str(entry["transaction_id"]),
                entry["kind"],
                entry["description"],
                entry["amount"],
                balance,
            ]
        )
    closing = statement["closing_balance"]
    writer.writerow(["closing", statement["until"].isoformat(), "", "", "", "", "", closing])
    return buffer.getvalue()
