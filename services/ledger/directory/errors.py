"""Refusals of the public directory."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


class NotAMerchantAccount(LedgerDomainError):
    """Only a business's merchant account may be listed: never a member's (an individual)."""

    code, title = "directory-merchant-account-required", "Only merchant accounts are listed"


class AlreadyListed(LedgerDomainError):
    """This merchant account already has a public profile."""

    status, code, title = 409, "directory-already-listed", "Business already listed"


class ListingWithdrawn(LedgerDomainError):
    """The profile was withdrawn at the business's request; its data is gone."""

    status, code, title = 409, "directory-listing-withdrawn", "Listing withdrawn"


class CurrencyNotAccepted(LedgerDomainError):
    """The merchant account's currency must be one of the currencies the profile lists."""

    code, title = "directory-currency-mismatch", "Account currency not among those accepted"
