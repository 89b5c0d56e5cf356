"""What the programme catalogue refuses: envelope budgets (AP/CP), territories, eligibility."""

from __future__ import annotations

from services.funding.errors import FundingDomainError


class InvalidAmountError(FundingDomainError):
    """An amount is not a positive integer number of euro cents."""

    status, code, title = 422, "invalid-amount", "Amount must be a positive integer of cents"

    def __init__(self, *, field: str, value: object) -> None:
        super().__init__(
            f"{field} must be a positive integer number of cents, got {value!r}",
            field=field,
            value=repr(value),
        )


class InvalidEnvelopeError(FundingDomainError):
    """An envelope's figures break its own invariants (negative, paid above committed...)."""

    status, code, title = 422, "invalid-envelope", "Envelope figures are inconsistent"


class EnvelopeExceededError(FundingDomainError):
    """A commitment would exceed the envelope's commitment credits (AP)."""

    status, code, title = 409, "envelope-exceeded", "Commitment exceeds the remaining envelope"

    def __init__(self, *, requested_cents: int, remaining_cents: int) -> None:
        super().__init__(
            f"cannot commit {requested_cents} cents: {remaining_cents} cents remain",
            requested_cents=requested_cents,
            remaining_cents=remaining_cents,
        )


class PaymentCreditsExceededError(FundingDomainError):
    """A payment would exceed the envelope's payment credits (CP)."""

    status, code, title = 409, "payment-credits-exceeded", "Payment exceeds the payment credits"

    def __init__(self, *, requested_cents: int, remaining_cents: int) -> None:
        super().__init__(
            f"cannot pay {requested_cents} cents: {remaining_cents} cents of CP remain",
            requested_cents=requested_cents,
            remaining_cents=remaining_cents,
        )


class PaymentExceedsCommitmentError(FundingDomainError):
    """A payment would exceed what remains unpaid on its commitment."""

    status, code, title = 409, "payment-exceeds-commitment", "Payment exceeds the commitment"

    def __init__(self, *, requested_cents: int, remaining_cents: int) -> None:
        super().__init__(
            f"cannot pay {requested_cents} cents: {remaining_cents} cents remain committed",
            requested_cents=requested_cents,
            remaining_cents=remaining_cents,
        )


class DecommitExceedsUnpaidError(FundingDomainError):
    """A release would take back money that is already paid or was never committed."""

    status, code, title = 409, "decommit-exceeds-unpaid", "Release exceeds the unpaid commitment"

    def __init__(self, *, requested_cents: int, releasable_cents: int) -> None:
        super().__init__(
            f"cannot release {requested_cents} cents: {releasable_cents} cents are releasable",
            requested_cents=requested_cents,
            releasable_cents=releasable_cents,
        )


class EnvelopeBelowUsageError(FundingDomainError):
    """A resize would put the envelope below what is already committed or paid."""

    status, code, title = 409, "envelope-below-usage", "Envelope cannot shrink below its usage"


class InvalidTerritoryCodeError(FundingDomainError):
    """A territory code is not an INSEE commune or département code."""

    status, code, title = 422, "invalid-territory-code", "Not an INSEE commune or département code"


class InvalidEligibilityRulesError(FundingDomainError):
    """A programme's eligibility rules are malformed (empty lists, inverted dates...)."""

    status, code, title = 422, "invalid-eligibility-rules", "Eligibility rules are malformed"


class NotEligibleError(FundingDomainError):
    """The application fails one or more of the programme's eligibility rules."""

    status, code, title = 422, "not-eligible", "Application is not eligible"


class NoAccompanistError(FundingDomainError):
    """No active local accompanist with free capacity covers the application's territory."""

    status, code, title = 409, "no-accompanist", "No local accompanist covers this territory"
