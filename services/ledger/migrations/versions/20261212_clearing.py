"""Clearing between euro-backed currencies: each currency's clearing terms (its regional
clearing account, its fees, the operator's standing authorisation), the cross-currency
payments and the settlements of each pair of currencies per period.

A clearing account is the one kind of account with no bound on either side (its balance
is the currency's net clearing position, negative when the currency is owed): the balance
row is the only one with ``lower_bound`` and ``upper_bound`` both NULL, so the guard below
costs nothing to any other account. The guard refuses any movement of a clearing account
outside the clearing service's postings (which set ``ledger.clearing`` for the duration
of their statement), so every unit on a clearing account is a recorded clearing payment
or settlement.

Revision ID: ledger_0017
Revises: ledger_0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0017"
down_revision: str | None = "ledger_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENTS = (
    """
    CREATE TABLE clearing_terms (
        currency text PRIMARY KEY REFERENCES currencies (code),
        clearing_account uuid NOT NULL CONSTRAINT uq_clearing_terms_clearing_account UNIQUE,
        fee_account uuid,
        payer_fee_bp integer NOT NULL DEFAULT 0 CHECK (payer_fee_bp BETWEEN 0 AND 9999),
        payer_fee_min bigint NOT NULL DEFAULT 0 CHECK (payer_fee_min >= 0),
        payee_fee_bp integer NOT NULL DEFAULT 0 CHECK (payee_fee_bp BETWEEN 0 AND 9999),
        payee_fee_min bigint NOT NULL DEFAULT 0 CHECK (payee_fee_min >= 0),
        enabled boolean NOT NULL DEFAULT true,
        authorised_by text NOT NULL CHECK (authorised_by <> ''),
        authorised_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT fk_clearing_terms_clearing_account FOREIGN KEY (clearing_account, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT fk_clearing_terms_fee_account FOREIGN KEY (fee_account, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT ck_clearing_terms_fee_account CHECK (
            fee_account IS NOT NULL
            OR (payer_fee_bp = 0 AND payer_fee_min = 0 AND payee_fee_bp = 0 AND payee_fee_min = 0)
        )
    )
    """,
    """
    CREATE TABLE clearing_settlements (
        id uuid PRIMARY KEY,
        currency_low text NOT NULL REFERENCES currencies (code),
        currency_high text NOT NULL REFERENCES currencies (code),
        period date NOT NULL CHECK (extract(day FROM period) = 1),
        low_to_high bigint NOT NULL CHECK (low_to_high >= 0),
        high_to_low bigint NOT NULL CHECK (high_to_low >= 0),
        payments integer NOT NULL CHECK (payments >= 0),
        payer_currency text,
        payee_currency text,
        amount bigint NOT NULL,
        transaction_id uuid REFERENCES transactions (id),
        settled_by text NOT NULL,
        settled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT uq_clearing_settlements_pair_period UNIQUE (currency_low, currency_high, period),
        CONSTRAINT ck_clearing_settlements_pair CHECK (currency_low < currency_high),
        CONSTRAINT ck_clearing_settlements_net CHECK (
            amount = abs(low_to_high - high_to_low)
            AND (amount = 0) = (transaction_id IS NULL)
            AND (amount = 0) = (payer_currency IS NULL)
            AND (payer_currency IS NULL
                 OR (low_to_high > high_to_low
                     AND payer_currency = currency_low AND payee_currency = currency_high)
                 OR (high_to_low > low_to_high
                     AND payer_currency = currency_high AND payee_currency = currency_low))
        )
    )
    """,
    "CREATE INDEX ix_clearing_settlements_period ON clearing_settlements (period, id)",
    """
    CREATE TABLE clearing_payments (
        transaction_id uuid PRIMARY KEY REFERENCES transactions (id),
        payer_currency text NOT NULL REFERENCES currencies (code),
        payee_currency text NOT NULL REFERENCES currencies (code),
        currency_low text GENERATED ALWAYS AS (LEAST(payer_currency, payee_currency)) STORED,
        currency_high text GENERATED ALWAYS AS (GREATEST(payer_currency, payee_currency)) STORED,
        payer_account uuid NOT NULL REFERENCES accounts (id),
        payee_account uuid NOT NULL REFERENCES accounts (id),
        amount bigint NOT NULL CHECK (amount > 0),
        payer_fee bigint NOT NULL CHECK (payer_fee >= 0),
        payee_fee bigint NOT NULL CHECK (payee_fee >= 0),
        period date NOT NULL CHECK (extract(day FROM period) = 1),
        settlement_id uuid REFERENCES clearing_settlements (id),
        paid_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT ck_clearing_payments_pair CHECK (payer_currency <> payee_currency),
        CONSTRAINT ck_clearing_payments_payee_fee CHECK (payee_fee < amount)
    )
    """,
    """
    CREATE INDEX ix_clearing_payments_pair_period
        ON clearing_payments (currency_low, currency_high, period)
    """,
    r"""
    CREATE FUNCTION ledger_clearing_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Only rows with no bound either way get here (the trigger's WHEN); of those, only
        -- the accounts named by clearing terms are clearing accounts (a unique index).
        IF coalesce(current_setting('ledger.clearing', true), '') <> 'on'
           AND EXISTS (SELECT 1 FROM clearing_terms WHERE clearing_account = NEW.account_id)
        THEN
            RAISE EXCEPTION 'account % is a clearing account: only clearing payments and '
                'settlements move it', NEW.account_id
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ck_clearing_account_movement',
                      TABLE = 'account_balances';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tr_clearing_account_guard AFTER UPDATE OF posted ON account_balances
        FOR EACH ROW
        WHEN (NEW.lower_bound IS NULL AND NEW.upper_bound IS NULL
              AND NEW.postings IS DISTINCT FROM OLD.postings)
        EXECUTE FUNCTION ledger_clearing_account_guard()
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER tr_clearing_account_guard ON account_balances")
    op.execute("DROP FUNCTION ledger_clearing_account_guard()")
    op.execute("DROP TABLE clearing_payments")
    op.execute("DROP TABLE clearing_settlements")
    op.execute("DROP TABLE clearing_terms")
