"""Events the funding service publishes."""

from pydantic import Field

from shared.events.registry import EventPayload, event_type


@event_type("proxima.funding.payment.ordered.v1")
class PaymentOrdered(EventPayload):
    """A grant tranche is to be paid in local currency or programme credits by the ledger."""

    order_id: str
    application_id: str
    tranche_id: str
    programme_code: str
    territory: str | None = None
    currency: str
    amount: int = Field(gt=0, description="Minor units of the currency")
    beneficiary_account_id: str
    funding_account_id: str
