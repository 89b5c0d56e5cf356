"""Payment requests: a payee asks, the payer's principal accepts (the transfer is posted
then, under the payer's own authority), declines, or the payee cancels; one decision each.

Revision ID: ledger_0012
Revises: ledger_0011
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0012"
down_revision: str | None = "ledger_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE payment_requests (
            id uuid PRIMARY KEY,
            currency text NOT NULL CONSTRAINT fk_payment_requests_currency
                REFERENCES currencies (code),
            payee_account uuid NOT NULL CONSTRAINT fk_payment_requests_payee
                REFERENCES accounts (id),
            payer_account uuid NOT NULL CONSTRAINT fk_payment_requests_payer
                REFERENCES accounts (id),
            amount bigint NOT NULL CONSTRAINT ck_payment_requests_amount CHECK (amount > 0),
            description text NOT NULL DEFAULT '',
            requested_by text NOT NULL,
            status text NOT NULL DEFAULT 'pending' CONSTRAINT ck_payment_requests_status
                CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
            expires_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            decided_by text,
            decided_at timestamptz,
            transaction_id uuid CONSTRAINT fk_payment_requests_transaction
                REFERENCES transactions (id) DEFERRABLE INITIALLY DEFERRED,
            CONSTRAINT ck_payment_requests_parties CHECK (payer_account <> payee_account),
            CONSTRAINT ck_payment_requests_decided CHECK (
                (status IN ('pending', 'expired')) = (decided_by IS NULL AND decided_at IS NULL)
            ),
            CONSTRAINT ck_payment_requests_posted
                CHECK ((status = 'accepted') = (transaction_id IS NOT NULL))
        )
        """
    )
    op.execute("CREATE INDEX ix_payment_requests_payer ON payment_requests (payer_account, id)")
    op.execute("CREATE INDEX ix_payment_requests_payee ON payment_requests (payee_account, id)")


def downgrade() -> None:
    op.execute("DROP TABLE payment_requests")
