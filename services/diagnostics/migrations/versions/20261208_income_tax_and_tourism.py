"""The DGFiP's income tax by commune (IRCOM), INSEE's tourism capacity and the census's
secondary homes, each figure with its vintage and the geography its codes were read on
(secret = NULL); the geography of Filosofi's figures too.

Revision ID: diagnostics_0011
Revises: diagnostics_0010
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "diagnostics_0011"
down_revision: str | None = "diagnostics_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCOME_TAX = (
    "tax_households",
    "reference_income_eur",
    "net_tax_eur",
    "taxed_households",
    "taxed_reference_income_eur",
    "salaries_households",
    "salaries_eur",
    "pensions_households",
    "pensions_eur",
)
TOURISM = (
    "hotels",
    "hotel_rooms",
    "hotel_rooms_unrated",
    "hotel_rooms_1_star",
    "hotel_rooms_2_stars",
    "hotel_rooms_3_stars",
    "hotel_rooms_4_stars",
    "hotel_rooms_5_stars",
    "campsites",
    "campsite_pitches",
    "holiday_village_beds",
    "tourist_residence_beds",
    "hostel_beds",
)
HOUSING = ("dwellings", "main_homes", "secondary_homes")


def _table(name: str, columns: dict[str, Any], non_negative: Sequence[str]) -> None:
    op.create_table(
        name,
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        *(sa.Column(column, kind, nullable=True) for column, kind in columns.items()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("geography_year", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.UUID(), nullable=True),
        *(
            sa.CheckConstraint(f"{column} >= 0", name=op.f(f"ck_{name}_{column}_non_negative"))
            for column in non_negative
        ),
        sa.ForeignKeyConstraint(
            ["code"], ["territories.code"], name=op.f(f"fk_{name}_code_territories")
        ),
        sa.PrimaryKeyConstraint("code", "year", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _table(
        "income_tax",
        {column: sa.BigInteger() for column in INCOME_TAX},
        [c for c in INCOME_TAX if c != "net_tax_eur"],
    )
    _table("tourism_capacity", {column: sa.Integer() for column in TOURISM}, TOURISM)
    _table("census_housing", {column: sa.Numeric(14, 2) for column in HOUSING}, HOUSING)
    op.add_column("income_sources", sa.Column("geography_year", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("income_sources", "geography_year")
    op.drop_table("census_housing")
    op.drop_table("tourism_capacity")
    op.drop_table("income_tax")
