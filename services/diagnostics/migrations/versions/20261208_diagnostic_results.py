"""The computed diagnostic of every territory-year, persisted in bulk; and an index on
the year of the yearly figures, which every report asks for its latest and previous
year (a max over the whole table: with France × 10 years, 350,000 rows scanned each time).

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
    op.create_index("ix_territory_years_year", "territory_years", ["year"])


def downgrade() -> None:
    op.drop_index("ix_territory_years_year", table_name="territory_years")
    op.drop_table("diagnostic_results")
