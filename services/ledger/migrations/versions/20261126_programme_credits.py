"""Voucher programmes (M'Ra / OURA-style cards): rules per voucher currency, the approved
merchants and funders, credit lots with an expiry, and which lot paid for what.

Revision ID: ledger_0005
Revises: ledger_0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0005"
down_revision: str | None = "ledger_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENTS = (
    """
    CREATE TABLE voucher_programmes (
        currency text PRIMARY KEY CONSTRAINT fk_voucher_programmes_currency_currencies
            REFERENCES currencies (code),
        allowed_categories text[] NOT NULL CONSTRAINT ck_voucher_programmes_categories
            CHECK (cardinality(allowed_categories) > 0),
        category_caps jsonb NOT NULL DEFAULT '{}'::jsonb,
        cap_period text NOT NULL CONSTRAINT ck_voucher_programmes_cap_period
            CHECK (cap_period IN ('month', 'year', 'programme')),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )
    """,
    """
    CREATE TABLE programme_merchants (
        currency text NOT NULL CONSTRAINT fk_programme_merchants_currency
            REFERENCES voucher_programmes (currency) ON DELETE CASCADE,
        account_id uuid NOT NULL,
        PRIMARY KEY (currency, account_id),
        CONSTRAINT fk_programme_merchants_account FOREIGN KEY (account_id, currency)
            REFERENCES accounts (id, currency)
    )
    """,
    """
    CREATE TABLE programme_funders (
        currency text NOT NULL CONSTRAINT fk_programme_funders_currency
            REFERENCES voucher_programmes (currency) ON DELETE CASCADE,
        account_id uuid NOT NULL,
        PRIMARY KEY (currency, account_id),
        CONSTRAINT fk_programme_funders_account FOREIGN KEY (account_id, currency)
            REFERENCES accounts (id, currency)
    )
    """,
    """
    CREATE TABLE credit_lots (
        id uuid PRIMARY KEY,
        currency text NOT NULL,
        beneficiary uuid NOT NULL,
        funder uuid NOT NULL,
        amount bigint NOT NULL CONSTRAINT ck_credit_lots_amount CHECK (amount > 0),
        remaining bigint NOT NULL CONSTRAINT ck_credit_lots_remaining
            CHECK (remaining >= 0 AND remaining <= amount),
        expires_at timestamptz NOT NULL,
        categories text[],
        grant_transaction uuid NOT NULL CONSTRAINT fk_credit_lots_grant_transaction
            REFERENCES transactions (id),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT fk_credit_lots_beneficiary FOREIGN KEY (beneficiary, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT fk_credit_lots_funder FOREIGN KEY (funder, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT ck_credit_lots_parties CHECK (beneficiary <> funder)
    )
    """,
    "CREATE INDEX ix_credit_lots_beneficiary ON credit_lots (beneficiary, expires_at)",
    """
    CREATE INDEX ix_credit_lots_expiring ON credit_lots (currency, expires_at)
        WHERE remaining > 0
    """,
    """
    CREATE TABLE lot_draws (
        transaction_id uuid NOT NULL CONSTRAINT fk_lot_draws_transaction
            REFERENCES transactions (id),
        lot_id uuid NOT NULL CONSTRAINT fk_lot_draws_lot REFERENCES credit_lots (id),
        kind text NOT NULL CONSTRAINT ck_lot_draws_kind CHECK (kind IN ('purchase', 'expiry')),
        amount bigint NOT NULL CONSTRAINT ck_lot_draws_amount CHECK (amount > 0),
        category text,
        merchant uuid CONSTRAINT fk_lot_draws_merchant REFERENCES accounts (id),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (transaction_id, lot_id),
        CONSTRAINT ck_lot_draws_purchase CHECK (
            (kind = 'purchase') = (category IS NOT NULL AND merchant IS NOT NULL)
        )
    )
    """,
    "CREATE INDEX ix_lot_draws_lot ON lot_draws (lot_id)",
    # Draws are history: like postings, they are never changed or removed.
    """
    CREATE FUNCTION lot_draws_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'lot_draws are append-only' USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER lot_draws_append_only BEFORE UPDATE OR DELETE ON lot_draws
        FOR EACH ROW EXECUTE FUNCTION lot_draws_immutable()
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS lot_draws")
    op.execute("DROP FUNCTION IF EXISTS lot_draws_immutable()")
    op.execute("DROP TABLE IF EXISTS credit_lots")
    op.execute("DROP TABLE IF EXISTS programme_funders")
    op.execute("DROP TABLE IF EXISTS programme_merchants")
    op.execute("DROP TABLE IF EXISTS voucher_programmes")
