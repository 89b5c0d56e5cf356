"""SQLAlchemy Core tables of the ledger: its own metadata, its own migration history.

The schema (and the triggers and CHECK constraints that guard it) is created by the
migrations; these tables are what the repositories query with.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Integer,
    SmallInteger,
    Table,
    Text,
    Time,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.db import make_metadata

metadata = make_metadata()


currencies = Table(
    "currencies",
    metadata,
    Column("code", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("scale", SmallInteger, nullable=False),
    Column("operator", Text, nullable=False),
    Column("rules", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True)),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("credit_limit", BigInteger, nullable=False),
    Column("territory", Text),
    Column("merchant_category", Text),
    Column("metadata", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("holder", Text, nullable=False),
)

account_limit_changes = Table(
    "account_limit_changes",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("old_limit", BigInteger, nullable=False),
    Column("new_limit", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True)),
)

account_balances = Table(
    "account_balances",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("posted", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("lower_bound", BigInteger),
    Column("upper_bound", BigInteger),
    Column("postings", BigInteger, nullable=False),
    Column("last_posted_at", DateTime(timezone=True)),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger),
    Column("kind", Text, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("inserted_at", DateTime(timezone=True)),
    Column("description", Text, nullable=False),
    Column("metadata", JSONB, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("idempotency_key", Text),
    Column("reverses", Uuid),
)

postings = Table(
    "postings",
    metadata,
    Column("seq", BigInteger),
    Column("transaction_id", Uuid, primary_key=True),
    Column("account_id", Uuid, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
    # Set by the posting trigger (tr_postings_apply): running balance, rank and instant per account.
    Column("balance_after", BigInteger, nullable=False),
    Column("account_seq", BigInteger, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("payer", Uuid, nullable=False),
    Column("payee", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("captured", BigInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("transaction_id", Uuid),
    Column("metadata", JSONB, nullable=False),
    Column("authorized_by", Text, nullable=False),
    Column("basis", Text, nullable=False),
    Column("mandate_id", Uuid),
)

currency_reserves = Table(
    "currency_reserves",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("issuer_account", Uuid, nullable=False),
    Column("reserve_account", Uuid, nullable=False),
    Column("external_account", Uuid, nullable=False),
    Column("fund_account", Uuid),
)

demurrage_runs = Table(
    "demurrage_runs",
    metadata,
    Column("run_key", Text, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("fund_account", Uuid, nullable=False),
    Column("status", Text, nullable=False),
    Column("accounts_total", BigInteger, nullable=False),
    Column("accounts_done", BigInteger, nullable=False),
    Column("charged_total", BigInteger, nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)

voucher_programmes = Table(
    "voucher_programmes",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("allowed_categories", ARRAY(Text), nullable=False),
    Column("category_caps", JSONB, nullable=False),
    Column("cap_period", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

programme_merchants = Table(
    "programme_merchants",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("account_id", Uuid, primary_key=True),
)

programme_funders = Table(
    "programme_funders",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("account_id", Uuid, primary_key=True),
)

credit_lots = Table(
    "credit_lots",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("beneficiary", Uuid, nullable=False),
    Column("funder", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("categories", ARRAY(Text)),
    Column("grant_transaction", Uuid, nullable=False),
    Column("created_at", DateTime(timezone=True)),
)

lot_draws = Table(
    "lot_draws",
    metadata,
    Column("transaction_id", Uuid, primary_key=True),
    Column("lot_id", Uuid, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("category", Text),
    Column("merchant", Uuid),
    Column("created_at", DateTime(timezone=True)),
)

# --- cards ---------------------------------------------------------------------------------
# The caps' counters (currency_debt, account_monthly_loads) are written by triggers only and
# read by no code: they have no table here.

cards = Table(
    "cards",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("currency", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("last4", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("block_reason", Text),
    Column("blocked_at", DateTime(timezone=True)),
    Column("blocked_by", Text),
    Column("created_at", DateTime(timezone=True)),
)

audit_chain = Table(
    "audit_chain",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("transaction_id", Uuid, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("sealed_at", DateTime(timezone=True)),
)

audit_sealer_state = Table(
    "audit_sealer_state",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("watermark_seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

programme_reimbursement = Table(
    "programme_reimbursement",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("issuer_account", Uuid, nullable=False),
)

programme_funder_euro_accounts = Table(
    "programme_funder_euro_accounts",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("funder", Uuid, primary_key=True),
    Column("euro_account", Uuid, nullable=False),
)

voucher_reimbursements = Table(
    "voucher_reimbursements",
    metadata,
    Column("transaction_id", Uuid, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("merchant", Uuid, nullable=False),
    Column("funder", Uuid, primary_key=True),
    Column("euro_account", Uuid, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True)),
)

# --- account authority -----------------------------------------------------------------------

account_mandates = Table(
    "account_mandates",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("grantee", Text, nullable=False),
    Column("may_debit", Boolean, nullable=False),
    Column("may_read", Boolean, nullable=False),
    Column("max_per_payment", BigInteger),
    Column("max_per_period", BigInteger),
    Column("period", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", Text),
)

grant_links = Table(
    "grant_links",
    metadata,
    Column("programme_code", Text, primary_key=True),
    Column("application_id", Text, primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("linked_by", Text, nullable=False),
    Column("linked_at", DateTime(timezone=True)),
)

operator_approvals = Table(
    "operator_approvals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("act", Text, nullable=False),
    Column("account_id", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("requested_at", DateTime(timezone=True)),
    Column("status", Text, nullable=False),
    Column("decided_by", Text),
    Column("decided_at", DateTime(timezone=True)),
    Column("transaction_id", Uuid),
)

# --- payment requests ------------------------------------------------------------------------

payment_requests = Table(
    "payment_requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("payee_account", Uuid, nullable=False),
    Column("payer_account", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("decided_by", Text),
    Column("decided_at", DateTime(timezone=True)),
    Column("transaction_id", Uuid),
)

period_closings = Table(
    "period_closings",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("through", Date, primary_key=True),
    Column("closed_by", Text, nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

schedules = Table(
    "schedules",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("operation", Text, primary_key=True),
    Column("cadence", Text, nullable=False),
    Column("local_time", Time, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("fund_account", Uuid),
    Column("authorised_by", Text, nullable=False),
    Column("authorised_at", DateTime(timezone=True)),
)

schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("currency", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("scheduled_for", DateTime(timezone=True), nullable=False),
    Column("authorised_by", Text, nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("outcome", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("progress", JSONB, nullable=False),
    Column("error", JSONB),
)

# --- the public directory of accepting businesses ------------------------------------------

directory_listings = Table(
    "directory_listings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account_id", Uuid),
    Column("currencies", ARRAY(Text), nullable=False),
    Column("category", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("name", Text),
    Column("address", Text),
    Column("latitude", Double),
    Column("longitude", Double),
    Column("opening_hours", JSONB),
    Column("consent_given_by", Text),
    Column("consent_given_at", DateTime(timezone=True)),
    Column("consent_recorded_by", Text),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawal_recorded_by", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)
