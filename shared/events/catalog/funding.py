"""Events the funding service publishes.

Every application transition has its own type (``proxima.funding.application.<verb>.v1``)
sharing one payload shape; decisions, budget movements, tranches and payments carry the
programme code, the territory and the amounts the regional dashboard aggregates.
"""

from datetime import datetime
from typing import Any, Literal

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
    amount: int = Field(
        gt=0,
        description="The tranche in euro cents; the ledger converts it at the currency's euro "
        "rate (a currency without one is refused)",
    )
    beneficiary_account_id: str = Field(
        default="",
        description="Optional: the ledger pays the account the beneficiary linked, and "
        "refuses an order naming another",
    )
    funding_account_id: str = Field(
        default="",
        description="Optional: the ledger debits an account mandated to the programme only",
    )
    # Added after v1 shipped, with defaults, so orders published before them still parse.
    mode: Literal["local_currency", "programme_credits"] = Field(
        default="local_currency",
        description="programme_credits: the ledger grants a credit lot in a voucher currency",
    )
    credit_expires_at: datetime | None = Field(
        default=None,
        description="Expiry of the programme credit lot; null = the ledger's default (1 year)",
    )
    credit_categories: list[str] | None = Field(
        default=None, description="Categories the lot is earmarked for; null = any allowed"
    )


class InstrumentOrder(EventPayload):
    """Shape of an order the ledger posts for an instrument; answered, as a grant tranche's
    order is, by ``proxima.ledger.payment.settled.v1`` or ``…payment.rejected.v1``."""

    order_id: str
    instrument_id: str
    application_id: str
    programme_code: str
    territory: str | None = None
    currency: str
    amount: int = Field(
        gt=0, description="Euro cents; the ledger converts them at the currency's euro rate"
    )


@event_type("proxima.funding.payment.repayment_ordered.v1")
class RepaymentOrdered(InstrumentOrder):
    """A loan repayment to collect in local currency: the ledger debits the account the
    borrower linked to the file, only under a debit mandate the borrower gave the programme's
    collection of repayments (``repayments:<programme>``), and credits the programme's
    mandated funding account."""


@event_type("proxima.funding.payment.guarantee_call_ordered.v1")
class GuaranteeCallOrdered(InstrumentOrder):
    """A called guarantee to pay in local currency: the ledger debits the programme's
    mandated funding account and pays the account linked to the file (the lender's)."""


class ApplicationTransitioned(EventPayload):
    """Shape shared by every application workflow event."""

    application_id: str
    programme_code: str
    envelope_code: str
    territory: str = Field(description="INSEE département code of the project")
    action: str
    from_state: str
    to_state: str
    actor: str = Field(description="client id of whoever performed the action")
    actor_role: str
    fields: dict[str, Any] = Field(default_factory=dict)


# One registered type per workflow verb; the funding service's transition table names them.
APPLICATION_VERBS = (
    "submitted",
    "withdrawn",
    "eligibility_check_started",
    "instruction_started",
    "declared_eligible",
    "declared_ineligible",
    "correction_requested",
    "sent_to_committee",
    "resubmitted",
    "closed_without_follow_up",
    "adjourned",
    "returned_to_instruction",
    "convention_signed",
    "payment_started",
    "final_report_rejected",
    "closed",
)

APPLICATION_EVENTS: dict[str, type[ApplicationTransitioned]] = {}
for _verb in APPLICATION_VERBS:
    _name = f"proxima.funding.application.{_verb}.v1"
    _cls = type(
        "Application" + "".join(p.capitalize() for p in _verb.split("_")),
        (ApplicationTransitioned,),
        {"__doc__": f"An application was {_verb.replace('_', ' ')}.", "__module__": __name__},
    )
    APPLICATION_EVENTS[_name] = event_type(_name)(_cls)


@event_type("proxima.funding.report.received.v1")
class ReportReceived(ApplicationTransitioned):
    """The final report of a funded project was received."""


@event_type("proxima.funding.decision.recorded.v1")
class DecisionRecorded(EventPayload):
    """A committee recorded its decision on an application (approval commits budget)."""

    application_id: str
    session_id: str
    programme_code: str
    envelope_code: str
    territory: str
    outcome: Literal["approved", "rejected"]
    amount_cents: int | None = Field(default=None, description="Euro cents granted")
    requested_amount_cents: int
    deliberation_number: str
    reason: str | None = None
    votes_for: int
    votes_against: int
    abstentions: int


class BudgetMoved(EventPayload):
    """Shape of a budget movement on an envelope."""

    envelope_id: str
    envelope_code: str
    programme_code: str
    year: int
    territory: str
    application_id: str
    amount_cents: int = Field(gt=0)
    committed_cents: int = Field(description="Envelope total committed after the movement")
    ap_cents: int


@event_type("proxima.funding.budget.committed.v1")
class BudgetCommitted(BudgetMoved):
    """Commitment credits (AP) of an envelope were committed to an application."""


@event_type("proxima.funding.budget.released.v1")
class BudgetReleased(BudgetMoved):
    """Unpaid commitment of an application went back to its envelope."""


@event_type("proxima.funding.tranche.payable.v1")
class TranchePayable(EventPayload):
    """A tranche's condition is met: it may now be ordered."""

    application_id: str
    tranche_id: str
    number: int
    kind: str
    programme_code: str
    territory: str
    amount_cents: int = Field(gt=0)


class PaymentOutcome(EventPayload):
    """Shape of a payment's outcome."""

    order_id: str
    application_id: str
    tranche_id: str
    programme_code: str
    envelope_code: str
    territory: str
    mode: str = Field(description="euro, local_currency or programme_credits")
    currency: str
    amount: int = Field(gt=0, description="Minor units of the currency (euro cents for EUR)")
    transaction_id: str | None = None


@event_type("proxima.funding.payment.paid.v1")
class PaymentPaid(PaymentOutcome):
    """A tranche was paid; the envelope's payment credits were consumed."""


@event_type("proxima.funding.payment.failed.v1")
class PaymentFailed(PaymentOutcome):
    """A tranche's payment failed; it may be ordered again."""

    reason: str


class InstrumentMoved(EventPayload):
    """Shape of an instrument's events: the file, its programme and territory, the kind."""

    instrument_id: str
    application_id: str
    programme_code: str
    territory: str
    kind: Literal["repayable_advance", "honour_loan", "participatory_loan", "guarantee"]


@event_type("proxima.funding.instrument.awarded.v1")
class InstrumentAwarded(InstrumentMoved):
    """A committee awarded an instrument instead of a grant, with the bank loan it brings."""

    amount_cents: int = Field(gt=0, description="Principal of a loan, cap of a guarantee")
    bank_loan_cents: int | None = Field(
        default=None, description="Bank loan associated (leverage); required for guarantees"
    )


@event_type("proxima.funding.instrument.repaid.v1")
class InstrumentRepaid(InstrumentMoved):
    """A repayment was received on a loan and matched to its instalments in order."""

    amount_cents: int = Field(gt=0)
    received_on: str = Field(description="ISO date the money was received")
    owed_cents: int = Field(ge=0, description="Still owed after this repayment")


@event_type("proxima.funding.guarantee.called.v1")
class GuaranteeCalled(InstrumentMoved):
    """A bank reported a default and the guarantee paid its share, up to its cap."""

    amount_cents: int = Field(gt=0, description="What the guarantee paid")
    outstanding_cents: int = Field(gt=0, description="What the bank had outstanding")


@event_type("proxima.funding.instrument.figures.v1")
class InstrumentFigures(EventPayload):
    """The instruments' figures of a territory (every programme, year and kind), as of a
    day, published again whenever one of its instruments moves: the dashboards show the
    leverage and the repayment rate beside grants and currencies."""

    territory: str = Field(description="INSEE département code")
    as_of: str = Field(description="ISO date of the position (repayments due by then)")
    instruments: int = Field(ge=0)
    public_cents: int = Field(ge=0, description="Loans disbursed and guarantee caps")
    bank_loans_cents: int = Field(ge=0, description="Bank loans associated")
    due_cents: int = Field(ge=0, description="Loan instalments fallen due")
    repaid_cents: int = Field(ge=0, description="Loan repayments received")
    losses_cents: int = Field(description="Written-off balances, calls net of recoveries")
    leverage: float | None = Field(description="Bank credit per euro of public money")
    repayment_rate: float | None = Field(description="Share of what fell due that came back")
