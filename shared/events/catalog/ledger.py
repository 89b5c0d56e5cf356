"""Events the ledger publishes."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from shared.events.registry import EventPayload, event_type


class PostedLeg(EventPayload):
    account_id: str
    account_type: str
    territory: str | None = Field(default=None, description="INSEE code of the account holder")
    amount: int = Field(description="Signed amount in minor units of the currency")


@event_type("proxima.ledger.transaction.posted.v1")
class TransactionPosted(EventPayload):
    """A transaction was committed to the ledger (postings sum to zero per currency)."""

    transaction_id: str
    currency: str
    kind: str = Field(description="transfer, issuance, reconversion, demurrage, programme_credit…")
    postings: list[PostedLeg] = Field(min_length=2)
    effective_date: date
    reverses: str | None = None


@event_type("proxima.ledger.payment.settled.v1")
class PaymentSettled(EventPayload):
    """The ledger's answer to a funding payment order paid in local currency."""

    order_id: str
    status: Literal["settled", "failed"]
    transaction_id: str | None = None
    reason: str | None = None
    # Added with account authority, with defaults, so answers published before still parse.
    beneficiary_account_id: str | None = Field(
        default=None, description="The account the beneficiary linked, which was paid"
    )
    funding_account_id: str | None = Field(
        default=None, description="The programme's mandated funding account, which paid"
    )
    units: int | None = Field(default=None, description="Minor units of the currency paid")
    rate: str | None = Field(default=None, description="Units per euro used for the amount")
    rounding: str | None = Field(default=None, description="Rounding rule used (half-even)")


@event_type("proxima.ledger.transaction.reversed.v1")
class TransactionReversed(EventPayload):
    """A transaction was corrected by a reversal that undoes all its postings."""

    transaction_id: str
    reversal_id: str


@event_type("proxima.ledger.currency.created.v1")
class CurrencyCreated(EventPayload):
    """A currency was registered with its operator and rules."""

    currency: str
    kind: str
    operator: str


@event_type("proxima.ledger.account.opened.v1")
class AccountOpened(EventPayload):
    """An account was opened in a currency."""

    account_id: str
    currency: str
    account_type: str
    territory: str | None = None


@event_type("proxima.ledger.account.frozen.v1")
class AccountFrozen(EventPayload):
    """An account was frozen: it can neither pay nor be paid until reactivated."""

    account_id: str
    status: Literal["frozen"] = "frozen"


@event_type("proxima.ledger.account.reactivated.v1")
class AccountReactivated(EventPayload):
    """A frozen account was made active again."""

    account_id: str
    status: Literal["active"] = "active"


@event_type("proxima.ledger.account.closed.v1")
class AccountClosed(EventPayload):
    """An account was closed for good (its balance and holds were zero)."""

    account_id: str
    status: Literal["closed"] = "closed"


@event_type("proxima.ledger.hold.created.v1")
class HoldCreated(EventPayload):
    """Funds were reserved on a payer's account until a deadline."""

    hold_id: str
    currency: str
    payer: str
    payee: str
    amount: int
    expires_at: datetime


@event_type("proxima.ledger.hold.captured.v1")
class HoldCaptured(EventPayload):
    """A hold was settled (fully or partly) by a posted transaction."""

    hold_id: str
    captured: int
    transaction_id: str


@event_type("proxima.ledger.hold.voided.v1")
class HoldVoided(EventPayload):
    """A hold was cancelled before its deadline."""

    hold_id: str


@event_type("proxima.ledger.hold.expired.v1")
class HoldExpired(EventPayload):
    """A hold reached its deadline uncaptured; its funds are available again."""

    hold_id: str


@event_type("proxima.ledger.demurrage.applied.v1")
class DemurrageApplied(EventPayload):
    """A currency's demurrage run for one period completed (each charge is also posted)."""

    currency: str
    period_start: date
    period_end: date
    charged_total: int = Field(description="Minor units moved into the fund")
    accounts: int = Field(description="Holding accounts visited")


@event_type("proxima.ledger.voucher_lot.expired.v1")
class VoucherLotExpired(EventPayload):
    """An expired programme credit lot was swept back to the funder that granted it."""

    lot_id: str
    currency: str
    beneficiary_account_id: str
    funder_account_id: str
    amount: int = Field(description="Minor units returned to the funder")
    transaction_id: str = Field(description="The programme_expiry transaction that moved them")


@event_type("proxima.ledger.card.issued.v1")
class CardIssued(EventPayload):
    """A card or token was mapped to an account (the number itself never leaves the ledger)."""

    card_id: str
    account_id: str
    currency: str
    kind: Literal["pan", "token"]
    last4: str = Field(description="Last four characters, to tell a holder's cards apart")


@event_type("proxima.ledger.card.blocked.v1")
class CardBlocked(EventPayload):
    """A card was blocked for good (lost, stolen); it authorises nothing from now on."""

    card_id: str
    account_id: str
    currency: str
    reason: str


@event_type("proxima.ledger.currency.issued.v1")
class CurrencyIssued(EventPayload):
    """Euros came into a euro-backed currency's reserve and units were issued for them."""

    currency: str
    account_id: str = Field(description="The account credited with the new units")
    euros: int = Field(description="Euro cents paid into the reserve")
    units: int = Field(description="Units credited, bonus included")
    bonus: int = Field(description="Part of the units paid by the currency's bonus fund")
    transaction_id: str


@event_type("proxima.ledger.currency.reconverted.v1")
class CurrencyReconverted(EventPayload):
    """Units went back to euros (leakage out of the local circulation), minus a fee."""

    currency: str
    account_id: str = Field(description="The account whose units were reconverted")
    units: int = Field(description="Units taken from the account")
    fee: int = Field(description="Units kept by the currency's fund as the reconversion fee")
    euros: int = Field(description="Euro cents paid out of the reserve")
    transaction_id: str


@event_type("proxima.ledger.payment.rejected.v1")
class PaymentRejected(EventPayload):
    """The ledger cannot pay a funding payment order; nothing was posted for it."""

    order_id: str
    code: str = Field(description="Problem code of the refusal, e.g. insufficient-funds")
    reason: str = Field(description="Human-readable detail")


@event_type("proxima.ledger.reserve.reconciliation_due.v1")
class ReserveReconciliationDue(EventPayload):
    """A scheduled reminder: the operator should compare the ledger's reserve with the
    bank's statement. The figures are the ledger's at the occurrence; only the operator
    knows the bank's balance (``GET /currencies/{code}/reserve/reconciliation``)."""

    currency: str
    scheduled_for: datetime = Field(description="The occurrence of the schedule (UTC)")
    units_in_circulation: int = Field(description="Units held outside the issuer's account")
    reserve_balance: int = Field(description="Euro cents on the reserve account in the ledger")
    ledger_drift: int = Field(description="Reserve minus circulation: 0 when the ledger agrees")


@event_type("proxima.ledger.clearing.paid.v1")
class ClearingPaid(EventPayload):
    """A member of one euro-backed currency paid a merchant of another, at par, through
    the two currencies' clearing accounts (one transaction)."""

    transaction_id: str
    payer_currency: str
    payee_currency: str
    payer_account_id: str
    payee_account_id: str
    amount: int = Field(description="Units moved at par between the clearing accounts")
    payer_fee: int = Field(description="Charged to the payer on top, in the payer's currency")
    payee_fee: int = Field(description="Deducted from the merchant's credit, in its currency")
    period: str = Field(description="Clearing period (calendar month), AAAA-MM")


@event_type("proxima.ledger.clearing.settled.v1")
class ClearingSettled(EventPayload):
    """A pair of currencies settled a period: the net amount moved in euros from the
    debtor currency's reserve to the creditor's."""

    settlement_id: str
    currency_low: str
    currency_high: str
    period: str = Field(description="Clearing period (calendar month), AAAA-MM")
    payer_currency: str | None = Field(description="The currency that owed the net amount")
    payee_currency: str | None
    amount: int = Field(description="Euro cents moved between the reserves (0: nothing owed)")
    transaction_id: str | None
