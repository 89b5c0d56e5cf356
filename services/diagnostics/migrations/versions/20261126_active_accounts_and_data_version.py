"""Active accounts per territory, currency and month; the data version that keys the cache
of computed years; text columns for ledger identifiers (the ledger stores them as text);
indexes to read one territory's transfers.

Revision ID: diagnostics_0003
Revises: diagnostics_0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "diagnostics_0003"
down_revision: str | None = "diagnostics_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT_COLUMNS = {
    "currency_aggregates": {"territory": 9, "currency": 20},
    "currency_transfers": {
        "transaction_id": 64,
        "currency": 20,
        "payer_account": 64,
        "payee_account": 64,
        "payer_territory": 9,
        "payee_territory": 9,
    },
}


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")
    op.create_table(
        "currency_active_accounts",
        sa.Column("territory", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "territory", "currency", "period", "account", name=op.f("pk_currency_active_accounts")
        ),
    )
    for table, columns in _TEXT_COLUMNS.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length=length))
    op.create_index(
        "ix_currency_transfers_payer",
        "currency_transfers",
        ["currency", "payer_territory", "at"],
        unique=False,
    )
    op.create_index(
        "ix_currency_transfers_payee",
        "currency_transfers",
        ["currency", "payee_territory", "at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_currency_transfers_payee", table_name="currency_transfers")
    op.drop_index("ix_currency_transfers_payer", table_name="currency_transfers")
    for table, columns in _TEXT_COLUMNS.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.String(length=length), existing_type=sa.Text())
    op.drop_table("currency_active_accounts")
    op.drop_table("data_version")
