"""The computed diagnostic of every territory-year, persisted in bulk.

Revision ID: diagnostics_0010
Revises: diagnostics_0009
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "diagnostics_0010"
down_revision: str | None = "diagnostics_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "diagnostic_results",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("code", "year", name=op.f("pk_diagnostic_results")),
    )


def downgrade() -> None:
    op.drop_table("diagnostic_results")
