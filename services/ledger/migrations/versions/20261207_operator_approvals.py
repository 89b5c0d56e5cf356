"""Four eyes: issuances and reconversions above a currency's threshold wait for a second
operator; the database refuses a decision by the principal who asked.

Revision ID: ledger_0011
Revises: ledger_0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0011"
down_revision: str | None = "ledger_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE operator_approvals (
            id uuid PRIMARY KEY,
            currency text NOT NULL CONSTRAINT fk_operator_approvals_currency
                REFERENCES currencies (code),
            act text NOT NULL CONSTRAINT ck_operator_approvals_act
                CHECK (act IN ('issuance', 'reconversion')),
            account_id uuid NOT NULL CONSTRAINT fk_operator_approvals_account
                REFERENCES accounts (id),
            amount bigint NOT NULL CONSTRAINT ck_operator_approvals_amount CHECK (amount > 0),
            requested_by text NOT NULL,
            requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            status text NOT NULL DEFAULT 'pending' CONSTRAINT ck_operator_approvals_status
                CHECK (status IN ('pending', 'approved', 'rejected')),
            decided_by text,
            decided_at timestamptz,
            transaction_id uuid CONSTRAINT fk_operator_approvals_transaction
                REFERENCES transactions (id) DEFERRABLE INITIALLY DEFERRED,
            CONSTRAINT ck_operator_approvals_four_eyes
                CHECK (decided_by IS NULL OR decided_by <> requested_by),
            CONSTRAINT ck_operator_approvals_decided
                CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
            CONSTRAINT ck_operator_approvals_posted
                CHECK ((status = 'approved') = (transaction_id IS NOT NULL))
        )
        """
    )
    op.execute("CREATE INDEX ix_operator_approvals_currency ON operator_approvals (currency, id)")


def downgrade() -> None:
    op.execute("DROP TABLE operator_approvals")
