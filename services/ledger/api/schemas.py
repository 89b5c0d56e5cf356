"""Request and response bodies of the ledger API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from services.ledger.accounts.rules import AccountStatus, AccountType
from services.ledger.currencies.rules.currency import (
    DEFAULT_MAX_BACKDATING_DAYS,
    MAX_BACKDATING_DAYS,
    CurrencyKind,
)
from services.ledger.transactions.rules import MAX_AMOUNT

CODE = r"^[A-Z][A-Z0-9_]{1,15}$"
INSEE = r"^(\d{5}|2[AB]\d{3})$"


def storable(value: str) -> str:
    """PostgreSQL text cannot hold NUL, and lone surrogates are not UTF-8: refuse both."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode") from exc
    return value


Text = Annotated[str, AfterValidator(storable)]

Amount = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Signed minor units")
PositiveAmount = Field(gt=0, le=MAX_AMOUNT, description="Minor units")
Metadata: Any = Field(default_factory=dict, max_length=50, description="Free key/value pairs")
MetadataMap = dict[Text, Text]


class Schema(BaseModel):
    """Request bodies: unknown fields are refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(from_attributes=True)


# --- currencies ---------------------------------------------------------------------------


class ReconversionFeesIn(Schema):
    default_bp: int = Field(default=0, ge=0, lt=10_000)
    by_category: dict[Text, int] = Field(default_factory=dict, max_length=100)


class DemurrageIn(Schema):
    rate_ppm: int = Field(gt=0, le=1_000_000)
    period: Literal[1, 3, 6, 12] = Field(description="Months")


class CreditPolicyIn(Schema):
    default_limit: int = Field(default=0, ge=0, le=MAX_AMOUNT)
    max_limit: int = Field(ge=0, le=MAX_AMOUNT)
    max_total_debt: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)


class CurrencyRulesIn(Schema):
    convertible: bool = False
    issuance_bonus_bp: int = Field(default=0, ge=0, le=10_000)
    reconversion_fees: ReconversionFeesIn = Field(default_factory=ReconversionFeesIn)
    individual_reconversion: bool = False
    demurrage: DemurrageIn | None = None
    credit_limit: CreditPolicyIn | None = None
    max_balance: int | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    monthly_load_cap: int | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    four_eyes_threshold: int | None = Field(
        default=None,
        gt=0,
        le=MAX_AMOUNT,
        description="Issuances and reconversions of at least this amount (minor units) wait "
        "for a second operator's approval",
    )
    max_backdating_days: int = Field(
        default=DEFAULT_MAX_BACKDATING_DAYS,
        ge=0,
        le=MAX_BACKDATING_DAYS,
        description="A transaction's effective date may lie at most this many days before "
        "today (UTC)",
    )


class CurrencyCreate(Schema):
    code: str = Field(pattern=CODE)
    kind: CurrencyKind
    scale: int = Field(default=2, ge=0, le=6)
    operator: Text = Field(min_length=1, max_length=200)
    rules: CurrencyRulesIn = Field(default_factory=CurrencyRulesIn)


class CurrencyRead(Out):
    code: str
    kind: str
    scale: int
    operator: str
    rules: dict[str, Any]


class CurrencyPage(Out):
    items: list[CurrencyRead]
    next_cursor: str | None


# --- accounts -----------------------------------------------------------------------------


Principal = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$")
]
"""A client id (or a service principal such as ``funding:IDECLIC``)."""


class AccountCreate(Schema):
    currency: str = Field(pattern=CODE)
    type: AccountType
    holder: Principal | None = Field(
        default=None,
        description="Client id of the principal holding the account (its member's wallet app, "
        "a merchant's terminal); default: the operator opening it",
    )
    name: Text = Field(default="", max_length=200)
    credit_limit: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    territory: str | None = Field(default=None, pattern=INSEE, description="INSEE commune code")
    merchant_category: Text | None = Field(default=None, min_length=1, max_length=60)
    metadata: MetadataMap = Metadata


class AccountRead(Out):
    id: UUID
    currency: str
    type: str
    holder: str
    status: str
    name: str
    credit_limit: int
    territory: str | None
    merchant_category: str | None
    metadata: dict[str, Any]
    posted: int
    held: int
    available: int
    lower_bound: int | None
    upper_bound: int | None


class AccountPage(Out):
    items: list[AccountRead]
    next_cursor: str | None


class HolderChange(Schema):
    holder: Principal


class StatusChange(Schema):
    status: AccountStatus


class CreditLimitChange(Schema):
    credit_limit: int = Field(ge=0, le=MAX_AMOUNT)
    reason: Text = Field(default="", max_length=500)


class LimitChangeRead(Out):
    id: int
    old_limit: int
    new_limit: int
    reason: str
    changed_by: str
    changed_at: datetime


class LimitChangePage(Out):
    items: list[LimitChangeRead]
    next_cursor: str | None


class BalanceRead(Out):
    account_id: UUID
    currency: str
    posted: int
    held: int
    available: int
    at: datetime | None = Field(default=None, description="Set for a balance at a past instant")


class HistoryEntry(Out):
    transaction_id: UUID
    amount: int
    kind: str
    effective_date: date
    inserted_at: datetime
    description: str


class HistoryPage(Out):
    items: list[HistoryEntry]
    next_cursor: str | None


class Statement(Out):
    account_id: UUID
    currency: str
    since: datetime
    until: datetime
    opening_balance: int
    closing_balance: int
    total_credits: int
    total_debits: int
    entries: list[HistoryEntry]


# --- transactions -------------------------------------------------------------------------


class PostingIn(Schema):
    account_id: UUID
    currency: str = Field(pattern=CODE)
    amount: StrictInt = Amount


class TransactionFields(Schema):
    kind: str = Field(default="transfer", pattern=r"^[a-z][a-z_]{0,39}$")
    effective_date: date | None = None
    description: Text = Field(default="", max_length=500)
    metadata: MetadataMap = Metadata
    postings: list[PostingIn] = Field(min_length=1, max_length=100)


class TransactionCreate(TransactionFields):
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class PostingRead(Out):
    account_id: UUID
    currency: str
    amount: int


class TransactionRead(Out):
    id: UUID
    kind: str
    effective_date: date
    inserted_at: datetime
    description: str
    metadata: dict[str, Any]
    reverses: UUID | None
    postings: list[PostingRead]


class TransactionPage(Out):
    items: list[TransactionRead]
    next_cursor: str | None


class ReversalCreate(Schema):
    description: Text = Field(default="", max_length=500)
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


# --- holds --------------------------------------------------------------------------------


class HoldCreate(Schema):
    payer: UUID
    payee: UUID
    currency: str = Field(pattern=CODE)
    amount: StrictInt = PositiveAmount
    expires_at: AwareDatetime
    metadata: MetadataMap = Metadata
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class HoldCapture(Schema):
    amount: StrictInt | None = Field(default=None, gt=0, le=MAX_AMOUNT)


class HoldRead(Out):
    id: UUID
    payer: UUID
    payee: UUID
    currency: str
    amount: int
    captured: int
    status: str
    expires_at: datetime
    transaction_id: UUID | None
    metadata: dict[str, Any]


class HoldPage(Out):
    items: list[HoldRead]
    next_cursor: str | None


# --- batches ------------------------------------------------------------------------------


class BatchCreate(Schema):
    mode: Literal["atomic", "independent"] = "atomic"
    items: list[TransactionFields] = Field(min_length=1, max_length=1000)
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class BatchItemResult(Out):
    index: int
    status: int
    transaction: TransactionRead | None = None
    problem: dict[str, Any] | None = None


class BatchRead(Out):
    mode: str
    posted: int
    failed: int
    results: list[BatchItemResult]


# --- euro-backed reserves -------------------------------------------------------------------


class ReserveConfig(Schema):
    issuer_account_id: UUID
    reserve_account_id: UUID
    external_account_id: UUID
    fund_account_id: UUID | None = None


class ReserveRead(Out):
    currency: str
    issuer_account_id: UUID
    reserve_account_id: UUID
    external_account_id: UUID
    fund_account_id: UUID | None


class IssuanceCreate(Schema):
    account_id: UUID
    euros: StrictInt = PositiveAmount
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class ReconversionCreate(Schema):
    account_id: UUID
    units: StrictInt = PositiveAmount
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class Reconciliation(Out):
    currency: str
    units_in_circulation: int
    reserve_balance: int
    reported_bank_balance: int
    ledger_drift: int
    bank_drift: int
    balanced: bool


# --- demurrage ------------------------------------------------------------------------------


class DemurrageRunCreate(Schema):
    period_start: date = Field(description="First day of a closed demurrage period")
    fund_account_id: UUID


class DemurrageRunRead(Out):
    run_key: str
    currency: str
    period_start: date
    period_end: date
    fund_account_id: UUID
    status: str
    accounts_total: int
    accounts_done: int
    charged_total: int


# --- voucher programmes ----------------------------------------------------------------------

Category = Annotated[Text, Field(min_length=1, max_length=64)]


class ProgrammeConfig(Schema):
    allowed_categories: list[Category] = Field(min_length=1, max_length=100)
    category_caps: dict[Category, Annotated[StrictInt, Field(le=MAX_AMOUNT)]] = Field(
        default_factory=dict,
        max_length=100,
        description="Most a beneficiary may spend per category within one cap period",
    )
    cap_period: Literal["month", "year", "programme"] = Field(
        default="month", description="Window of the caps: calendar month, year (UTC), or ever"
    )
    approved_merchants: list[UUID] = Field(default_factory=list, max_length=1000)
    funders: list[UUID] = Field(min_length=1, max_length=100)


class ProgrammeRead(Out):
    currency: str
    allowed_categories: list[str]
    category_caps: dict[str, int]
    cap_period: str
    approved_merchants: list[UUID]
    funders: list[UUID]


class CreditGrantCreate(Schema):
    funder_account_id: UUID
    beneficiary_account_id: UUID
    amount: StrictInt = PositiveAmount
    expires_at: AwareDatetime
    categories: list[Category] | None = Field(
        default=None, min_length=1, max_length=100, description="Earmark; null = any allowed"
    )
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class LotRead(Out):
    id: UUID
    currency: str
    beneficiary_account_id: UUID
    funder_account_id: UUID
    amount: int
    remaining: int
    expires_at: datetime
    categories: list[str] | None
    grant_transaction_id: UUID


class LotPage(Out):
    items: list[LotRead]
    next_cursor: str | None


class CreditGrantRead(Out):
    lot: LotRead
    transaction: TransactionRead


class PurchaseCreate(Schema):
    beneficiary_account_id: UUID
    merchant_account_id: UUID
    amount: StrictInt = PositiveAmount
    category: Category | None = Field(
        default=None, description="Defaults to the merchant account's category"
    )
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class DrawRead(Out):
    lot_id: UUID
    funder_account_id: UUID
    amount: int


class PurchaseRead(Out):
    category: str
    transaction: TransactionRead
    draws: list[DrawRead]


class ExpirySweepRead(Out):
    currency: str
    lots_swept: int
    transactions: int
    amount_swept: int
    more: bool = Field(description="More expired lots are waiting: call again")


class CategorySpend(Out):
    category: str
    amount: int


class MerchantSpend(Out):
    merchant_account_id: UUID
    amount: int


class FunderReport(Out):
    funder_account_id: UUID
    lots: int
    granted: int
    spent: int
    swept: int = Field(description="Expired credit returned to this funder")
    reimbursed: int = Field(
        default=0, description="Spent credit this funder bought back from merchants in euros"
    )
    outstanding: int = Field(description="Still spendable in unexpired lots")
    expired_unswept: int = Field(description="Expired, waiting for the next sweep")
    by_category: list[CategorySpend]
    by_merchant: list[MerchantSpend]


class ProgrammeReport(Out):
    currency: str
    items: list[FunderReport]
    next_cursor: str | None


# --- cards and tokens ---------------------------------------------------------------------------

CardSecret = Annotated[Text, Field(min_length=12, max_length=128)]


class CardCreate(Schema):
    account_id: UUID
    card_number: CardSecret | None = Field(
        default=None, description="PAN (12-19 digits, Luhn); stored only as a keyed fingerprint"
    )
    token: CardSecret | None = Field(
        default=None, description="Opaque token; omit both to have the ledger generate one"
    )
    label: Text = Field(default="", max_length=100)


class CardRead(Out):
    id: UUID
    account_id: UUID
    currency: str
    kind: Literal["pan", "token"]
    last4: str
    label: str
    status: Literal["active", "blocked"]
    block_reason: str | None
    blocked_at: datetime | None
    created_at: datetime


class CardIssued(CardRead):
    token: str | None = Field(
        default=None, description="The generated token, shown once (null for a given number)"
    )


class CardPage(Out):
    items: list[CardRead]
    next_cursor: str | None


class CardBlock(Schema):
    reason: Literal["lost", "stolen", "compromised", "holder_request", "other"]
    note: Text = Field(default="", max_length=500)


class PresentedCard(Schema):
    card_number: CardSecret | None = None
    token: CardSecret | None = None


class CardAuthorizationCreate(PresentedCard):
    merchant_account_id: UUID
    amount: StrictInt = PositiveAmount
    expires_at: AwareDatetime | None = Field(
        default=None, description="Capture deadline; default 7 days"
    )
    metadata: MetadataMap = Metadata
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class CardPurchaseCreate(PresentedCard):
    merchant_account_id: UUID
    amount: StrictInt = PositiveAmount
    category: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class CardPurchaseRead(PurchaseRead):
    card_id: UUID


# --- voucher merchants reimbursed in euros ------------------------------------------------------


class FunderEuroAccount(Schema):
    funder_account_id: UUID
    euro_account_id: UUID


class ReimbursementConfig(Schema):
    issuer_account_id: UUID = Field(description="Voucher issuer that retires bought-back units")
    funder_euro_accounts: list[FunderEuroAccount] = Field(min_length=1, max_length=100)


class FunderEuroAccountRead(Out):
    funder_account_id: UUID
    euro_account_id: UUID


class ReimbursementConfigRead(Out):
    currency: str
    issuer_account_id: UUID
    funder_euro_accounts: list[FunderEuroAccountRead]


class ReimbursementCreate(Schema):
    merchant_account_id: UUID
    merchant_euro_account_id: UUID
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class FunderReimbursement(Out):
    funder_account_id: UUID
    euro_account_id: UUID
    units: int


class ReimbursementRead(Out):
    currency: str
    merchant_account_id: UUID
    units: int = Field(description="Voucher units bought back = euro cents paid")
    euro_currency: str
    by_funder: list[FunderReimbursement]
    transaction: TransactionRead
