"""Territories, perimeters (history), yearly data, sector employment, imports, and the
live currency aggregates with the transfers they are recomputed from.

Revision ID: diagnostics_0002
Revises: diagnostics_0001
Create Date: 2026-11-26 02:42:15.968564
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "diagnostics_0002"
down_revision: str | None = "diagnostics_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "currency_aggregates",
        sa.Column("territory", sa.String(length=9), nullable=False),
        sa.Column("currency", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("transactions", sa.BigInteger(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("received_from_outside", sa.BigInteger(), nullable=False),
        sa.Column("spent_locally", sa.BigInteger(), nullable=False),
        sa.Column("spent_outside", sa.BigInteger(), nullable=False),
        sa.Column("reconverted", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("issued >= 0", name=op.f("ck_currency_aggregates_issued_non_negative")),
        sa.CheckConstraint(
            "received_from_outside >= 0",
            name=op.f("ck_currency_aggregates_received_from_outside_non_negative"),
        ),
        sa.CheckConstraint(
            "reconverted >= 0", name=op.f("ck_currency_aggregates_reconverted_non_negative")
        ),
        sa.CheckConstraint(
            "spent_locally >= 0", name=op.f("ck_currency_aggregates_spent_locally_non_negative")
        ),
        sa.CheckConstraint(
            "spent_outside >= 0", name=op.f("ck_currency_aggregates_spent_outside_non_negative")
        ),
        sa.CheckConstraint(
            "transactions >= 0", name=op.f("ck_currency_aggregates_transactions_non_negative")
        ),
        sa.PrimaryKeyConstraint(
            "territory", "currency", "period", name=op.f("pk_currency_aggregates")
        ),
    )
    op.create_table(
        "currency_transfers",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("payer_account", sa.String(length=64), nullable=False),
        sa.Column("payee_account", sa.String(length=64), nullable=False),
        sa.Column("payer_territory", sa.String(length=9), nullable=True),
        sa.Column("payee_territory", sa.String(length=9), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('issuance', 'payment', 'reconversion')",
            name=op.f("ck_currency_transfers_kind"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_currency_transfers_amount_positive")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_currency_transfers")),
    )
    op.create_index(
        "ix_currency_transfers_currency_at",
        "currency_transfers",
        ["currency", "at", "seq"],
        unique=False,
    )
    op.create_index(
        op.f("ix_currency_transfers_transaction_id"),
        "currency_transfers",
        ["transaction_id"],
        unique=False,
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("rows_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "report", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'rejected')", name=op.f("ck_imports_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index("ix_imports_created", "imports", ["created_at", "id"], unique=False)
    op.create_table(
        "perimeters",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('cddra', 'cfac', 'pnr', 'politique_ville')", name=op.f("ck_perimeters_kind")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_perimeters_validity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_perimeters")),
        sa.UniqueConstraint("kind", "code", "valid_from", name="uq_perimeters_version"),
    )
    op.create_table(
        "sectors",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("sphere", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "sphere IN ('presentielle', 'productive')", name=op.f("ck_sectors_sphere")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_sectors")),
    )
    op.create_table(
        "territories",
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_code", sa.String(length=9), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('region', 'departement', 'zone_emploi', 'epci', 'commune')",
            name=op.f("ck_territories_level"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_territories")),
    )
    op.create_index(
        op.f("ix_territories_parent_code"), "territories", ["parent_code"], unique=False
    )
    op.create_table(
        "perimeter_communes",
        sa.Column("perimeter_id", sa.UUID(), nullable=False),
        sa.Column("commune_code", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["territories.code"],
            name=op.f("fk_perimeter_communes_commune_code_territories"),
        ),
        sa.ForeignKeyConstraint(
            ["perimeter_id"],
            ["perimeters.id"],
            name=op.f("fk_perimeter_communes_perimeter_id_perimeters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("perimeter_id", "commune_code", name=op.f("pk_perimeter_communes")),
    )
    op.create_table(
        "sector_employment",
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=20), nullable=False),
        sa.Column("jobs", sa.BigInteger(), nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=True),
        sa.CheckConstraint("jobs >= 0", name=op.f("ck_sector_employment_jobs_non_negative")),
        sa.ForeignKeyConstraint(
            ["code"], ["territories.code"], name=op.f("fk_sector_employment_code_territories")
        ),
        sa.PrimaryKeyConstraint("code", "year", "sector", name=op.f("pk_sector_employment")),
    )
    op.create_table(
        "territory_years",
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=False),
        sa.Column("productive_wages_eur", sa.BigInteger(), nullable=False),
        sa.Column("productive_self_employed_eur", sa.BigInteger(), nullable=False),
        sa.Column("pensions_eur", sa.BigInteger(), nullable=False),
        sa.Column("commuter_wages_eur", sa.BigInteger(), nullable=False),
        sa.Column("tourism_spending_eur", sa.BigInteger(), nullable=False),
        sa.Column("property_income_eur", sa.BigInteger(), nullable=False),
        sa.Column("public_wages_eur", sa.BigInteger(), nullable=False),
        sa.Column("social_transfers_eur", sa.BigInteger(), nullable=False),
        sa.Column("jobs_presentielle", sa.BigInteger(), nullable=False),
        sa.Column("jobs_productive", sa.BigInteger(), nullable=False),
        sa.Column("consumption_potential_eur", sa.BigInteger(), nullable=True),
        sa.Column("local_spending_eur", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=True),
        sa.CheckConstraint(
            "commuter_wages_eur >= 0",
            name=op.f("ck_territory_years_commuter_wages_eur_non_negative"),
        ),
        sa.CheckConstraint(
            "jobs_presentielle >= 0", name=op.f("ck_territory_years_jobs_presentielle_non_negative")
        ),
        sa.CheckConstraint(
            "jobs_productive >= 0", name=op.f("ck_territory_years_jobs_productive_non_negative")
        ),
        sa.CheckConstraint(
            "local_spending_eur IS NULL OR consumption_potential_eur IS NULL "
            "OR local_spending_eur <= consumption_potential_eur",
            name=op.f("ck_territory_years_spending_within_potential"),
        ),
        sa.CheckConstraint(
            "pensions_eur >= 0", name=op.f("ck_territory_years_pensions_eur_non_negative")
        ),
        sa.CheckConstraint(
            "population >= 0", name=op.f("ck_territory_years_population_non_negative")
        ),
        sa.CheckConstraint(
            "productive_self_employed_eur >= 0",
            name=op.f("ck_territory_years_productive_self_employed_eur_non_negative"),
        ),
        sa.CheckConstraint(
            "productive_wages_eur >= 0",
            name=op.f("ck_territory_years_productive_wages_eur_non_negative"),
        ),
        sa.CheckConstraint(
            "property_income_eur >= 0",
            name=op.f("ck_territory_years_property_income_eur_non_negative"),
        ),
        sa.CheckConstraint(
            "public_wages_eur >= 0", name=op.f("ck_territory_years_public_wages_eur_non_negative")
        ),
        sa.CheckConstraint(
            "social_transfers_eur >= 0",
            name=op.f("ck_territory_years_social_transfers_eur_non_negative"),
        ),
        sa.CheckConstraint(
            "tourism_spending_eur >= 0",
            name=op.f("ck_territory_years_tourism_spending_eur_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["code"], ["territories.code"], name=op.f("fk_territory_years_code_territories")
        ),
        sa.PrimaryKeyConstraint("code", "year", name=op.f("pk_territory_years")),
    )


def downgrade() -> None:
    op.drop_table("territory_years")
    op.drop_table("sector_employment")
    op.drop_table("perimeter_communes")
    op.drop_index(op.f("ix_territories_parent_code"), table_name="territories")
    op.drop_table("territories")
    op.drop_table("sectors")
    op.drop_table("perimeters")
    op.drop_index("ix_imports_created", table_name="imports")
    op.drop_table("imports")
    op.drop_index(op.f("ix_currency_transfers_transaction_id"), table_name="currency_transfers")
    op.drop_index("ix_currency_transfers_currency_at", table_name="currency_transfers")
    op.drop_table("currency_transfers")
    op.drop_table("currency_aggregates")
