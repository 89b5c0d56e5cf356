"""Account authority: every account has a holder principal, mandates let another principal
debit (or read) it within limits, every debit leg carries the authority it was posted
under, and grant beneficiaries link the account they hold to their application.

Defence in depth: a deferred constraint trigger refuses, at commit, any debit posting
without its ``posting_authorities`` row of the same amount, so a code path that forgets the
check in `services.ledger.authority` cannot move money anyway.

Existing accounts are held by their currency's operator (what the operator could already
do with them); the operator reassigns them with ``PUT /accounts/{id}/holder``.

Revision ID: ledger_0010
Revises: ledger_0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0010"
down_revision: str | None = "ledger_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENTS = (
    "ALTER TABLE accounts ADD COLUMN holder text",
    "UPDATE accounts a SET holder = c.operator FROM currencies c WHERE c.code = a.currency",
    """
    ALTER TABLE accounts ALTER COLUMN holder SET NOT NULL,
        ADD CONSTRAINT ck_accounts_holder CHECK (holder <> '')
    """,
    "CREATE INDEX ix_accounts_holder ON accounts (holder, currency)",
    """
    CREATE TABLE account_mandates (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL CONSTRAINT fk_account_mandates_account
            REFERENCES accounts (id),
        grantee text NOT NULL CONSTRAINT ck_account_mandates_grantee CHECK (grantee <> ''),
        may_debit boolean NOT NULL,
        may_read boolean NOT NULL,
        max_per_payment bigint CONSTRAINT ck_account_mandates_max_per_payment
            CHECK (max_per_payment > 0),
        max_per_period bigint CONSTRAINT ck_account_mandates_max_per_period
            CHECK (max_per_period > 0),
        period text NOT NULL CONSTRAINT ck_account_mandates_period
            CHECK (period IN ('day', 'week', 'month', 'year')),
        expires_at timestamptz NOT NULL,
        purpose text NOT NULL DEFAULT '',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        revoked_at timestamptz,
        revoked_by text,
        CONSTRAINT ck_account_mandates_revocation
            CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
        CONSTRAINT ck_account_mandates_debit_limits
            CHECK (NOT may_debit OR (max_per_payment IS NOT NULL AND max_per_period IS NOT NULL))
    )
    """,
    """
    CREATE INDEX ix_account_mandates_grantee ON account_mandates (grantee, account_id)
        WHERE revoked_at IS NULL
    """,
    "CREATE INDEX ix_account_mandates_account ON account_mandates (account_id, created_at, id)",
    """
    CREATE TABLE posting_authorities (
        transaction_id uuid NOT NULL CONSTRAINT fk_posting_authorities_transaction
            REFERENCES transactions (id) DEFERRABLE INITIALLY DEFERRED,
        account_id uuid NOT NULL,
        basis text NOT NULL CONSTRAINT ck_posting_authorities_basis
            CHECK (basis IN ('holder', 'mandate', 'operator', 'card')),
        principal text NOT NULL CONSTRAINT ck_posting_authorities_principal
            CHECK (principal <> ''),
        mandate_id uuid CONSTRAINT fk_posting_authorities_mandate
            REFERENCES account_mandates (id),
        amount bigint NOT NULL CONSTRAINT ck_posting_authorities_amount CHECK (amount > 0),
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (transaction_id, account_id),
        CONSTRAINT ck_posting_authorities_mandate
            CHECK ((basis = 'mandate') = (mandate_id IS NOT NULL))
    )
    """,
    """
    CREATE INDEX ix_posting_authorities_mandate ON posting_authorities (mandate_id, recorded_at)
        WHERE mandate_id IS NOT NULL
    """,
    """
    CREATE FUNCTION ledger_debit_needs_authority() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM posting_authorities
            WHERE transaction_id = NEW.transaction_id AND account_id = NEW.account_id
              AND amount = -NEW.amount
        ) THEN
            RAISE EXCEPTION 'debit of % on account % in transaction % has no authority row',
                -NEW.amount, NEW.account_id, NEW.transaction_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_postings_debit_authority';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER tg_postings_debit_authority AFTER INSERT ON postings
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.amount < 0)
        EXECUTE FUNCTION ledger_debit_needs_authority()
    """,
    # Holds carry the authority they were placed under: the capture debits under it.
    """
    ALTER TABLE holds
        ADD COLUMN authorized_by text NOT NULL DEFAULT 'ledger',
        ADD COLUMN basis text NOT NULL DEFAULT 'operator'
            CONSTRAINT ck_holds_basis CHECK (basis IN ('holder', 'mandate', 'operator', 'card')),
        ADD COLUMN mandate_id uuid CONSTRAINT fk_holds_mandate REFERENCES account_mandates (id)
    """,
    """
    CREATE TABLE grant_links (
        programme_code text NOT NULL,
        application_id text NOT NULL,
        account_id uuid NOT NULL CONSTRAINT fk_grant_links_account REFERENCES accounts (id),
        linked_by text NOT NULL,
        linked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (programme_code, application_id)
    )
    """,
)

DOWN = (
    "DROP TABLE grant_links",
    "ALTER TABLE holds DROP COLUMN mandate_id, DROP COLUMN basis, DROP COLUMN authorized_by",
    "DROP TRIGGER tg_postings_debit_authority ON postings",
    "DROP FUNCTION ledger_debit_needs_authority()",
    "DROP TABLE posting_authorities",
    "DROP TABLE account_mandates",
    "ALTER TABLE accounts DROP COLUMN holder",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWN:
        op.execute(statement)
