"""Reserve configuration of euro-backed currencies: which accounts issue units, mirror the
euro guarantee fund, stand for the bank outside, and receive fees or pay bonuses.

Revision ID: ledger_0003
Revises: ledger_0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0003"
down_revision: str | None = "ledger_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENTS = (
    """
    CREATE TABLE currency_reserves (
        currency text PRIMARY KEY CONSTRAINT fk_currency_reserves_currency_currencies
            REFERENCES currencies (code),
        issuer_account uuid NOT NULL,
        reserve_account uuid NOT NULL CONSTRAINT uq_currency_reserves_reserve_account UNIQUE,
        external_account uuid NOT NULL,
        fund_account uuid,
        CONSTRAINT fk_currency_reserves_issuer FOREIGN KEY (issuer_account, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT fk_currency_reserves_reserve FOREIGN KEY (reserve_account)
            REFERENCES accounts (id),
        CONSTRAINT fk_currency_reserves_external FOREIGN KEY (external_account)
            REFERENCES accounts (id),
        CONSTRAINT fk_currency_reserves_fund FOREIGN KEY (fund_account, currency)
            REFERENCES accounts (id, currency),
        CONSTRAINT uq_currency_reserves_issuer_account UNIQUE (issuer_account)
    )
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS currency_reserves")
