"""Income sources as Filosofi publishes them (shares of disposable income, secret = NULL).

Revision ID: diagnostics_0008
Revises: diagnostics_0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "diagnostics_0008"
down_revision: str | None = "diagnostics_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = {
    "households": sa.Numeric(14, 1),
    "persons": sa.Numeric(14, 1),
    "median_eur": sa.Numeric(12, 1),
    "activity_share": sa.Numeric(6, 1),
    "salaries_share": sa.Numeric(6, 1),
    "unemployment_share": sa.Numeric(6, 1),
    "self_employed_share": sa.Numeric(6, 1),
    "pensions_share": sa.Numeric(6, 1),
    "property_share": sa.Numeric(6, 1),
    "social_benefits_share": sa.Numeric(6, 1),
}


def upgrade() -> None:
    op.create_table(
        "income_sources",
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        *(sa.Column(name, kind, nullable=True) for name, kind in FIGURES.items()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=True),
        *(
            sa.CheckConstraint(f"{name} >= 0", name=op.f(f"ck_income_sources_{name}_non_negative"))
            for name in FIGURES
        ),
        sa.ForeignKeyConstraint(
            ["code"], ["territories.code"], name=op.f("fk_income_sources_code_territories")
        ),
        sa.PrimaryKeyConstraint("code", "year", name=op.f("pk_income_sources")),
    )


def downgrade() -> None:
    op.drop_table("income_sources")
