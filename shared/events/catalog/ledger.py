"""Events the ledger publishes."""

from datetime import date
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
