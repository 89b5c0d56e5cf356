"""Refusals of clearing between currencies (problem+json, French text).

A currency that cannot take part (not euro-backed, or not opted in by its operator) is
refused with the ledger's one ``currency-not-convertible`` code
(`services.ledger.currencies.errors.CurrencyNotConvertible`), as a grant tranche in hours
is: same meaning, same code."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


class SameCurrency(LedgerDomainError):
    """A clearing payment goes from one currency to another; within one it is a transfer."""

    code, title = "clearing-same-currency", "Paiement dans une seule monnaie"


class PayerNotEligible(LedgerDomainError):
    """The payer is a member or a merchant account of its currency."""

    code, title = "clearing-payer-not-eligible", "Compte payeur non admis"


class PayeeNotMerchant(LedgerDomainError):
    """Clearing pays businesses: the payee must be a merchant account."""

    code, title = "clearing-payee-not-merchant", "Le bénéficiaire doit être un commerce"


class FeeExceedsAmount(LedgerDomainError):
    """The payee currency's fee, deducted from the amount, would leave the merchant nothing."""

    code, title = "clearing-fee-exceeds-amount", "Frais supérieurs au montant"


class InvalidClearingTerms(LedgerDomainError):
    """The clearing terms name an account of the wrong currency or type, or fees without a
    fee account."""

    code, title = "clearing-terms-invalid", "Conditions de compensation invalides"


class InvalidClearingPeriod(LedgerDomainError):
    """A period is a calendar month written ``YYYY-MM``."""

    code, title = "clearing-period-invalid", "Période invalide"


class PeriodNotEnded(LedgerDomainError):
    """A month is settled once it has ended (UTC): payments may still land in it until then."""

    status, code, title = 409, "clearing-period-not-ended", "Période non terminée"


class PeriodAlreadySettled(LedgerDomainError):
    """Each pair of currencies settles each period once."""

    status, code, title = 409, "clearing-period-settled", "Période déjà réglée"


class ClearingAccountReserved(LedgerDomainError):
    """A clearing account moves only through clearing payments and settlements."""

    status, code, title = 409, "clearing-account-reserved", "Compte de compensation réservé"
