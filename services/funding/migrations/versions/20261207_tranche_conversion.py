"""Tranches keep the ledger's answer to a local-currency payment: units paid, the rate and
the rounding of the euro conversion (the resolved accounts go in the existing columns).

Revision ID: funding_0004
Revises: funding_0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funding_0004"
down_revision: str | None = "funding_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tranches", sa.Column("paid_units", sa.BigInteger(), nullable=True))
    op.add_column("tranches", sa.Column("conversion_rate", sa.String(length=20), nullable=True))
    op.add_column("tranches", sa.Column("conversion_rounding", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("tranches", "conversion_rounding")
    op.drop_column("tranches", "conversion_rate")
    op.drop_column("tranches", "paid_units")
