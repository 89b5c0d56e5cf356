"""Official geography: COG units keyed by (type, code), multi-parent memberships with
validity dates, simplified boundaries, mouvements de communes, loaded sources; legal
population and a synthetic flag on territories and perimeters; contrats de territoire and
former régions as perimeter kinds; secret cells (NULL) in jobs by sector.

Revision ID: diagnostics_0006
Revises: diagnostics_0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "diagnostics_0006"
down_revision: str | None = "diagnostics_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('cddra', 'cfac', 'pnr', 'politique_ville')"
NEW_KINDS = (
    "kind IN ('cddra', 'cfac', 'pnr', 'politique_ville', 'contrat_territoire', 'ancienne_region')"
)
RELATIONS = "relation IN ('departement', 'region', 'epci', 'zone_emploi_2020', 'zone_emploi_2010')"


def upgrade() -> None:
    op.add_column("territories", sa.Column("legal_population", sa.BigInteger(), nullable=True))
    op.add_column(
        "territories",
        sa.Column("synthetic", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column(
        "perimeters",
        sa.Column("synthetic", sa.Boolean(), server_default="false", nullable=False),
    )
    op.drop_constraint(op.f("ck_perimeters_kind"), "perimeters", type_="check")
    op.create_check_constraint(op.f("ck_perimeters_kind"), "perimeters", NEW_KINDS)
    op.alter_column("sector_employment", "jobs", existing_type=sa.BigInteger(), nullable=True)
    op.create_table(
        "geography_units",
        sa.Column("type", sa.String(length=4), nullable=False),
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_code", sa.String(length=5), nullable=True),
        sa.Column("departement", sa.String(length=3), nullable=True),
        sa.Column("population", sa.BigInteger(), nullable=True),
        sa.Column("vintage", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "type IN ('COM', 'COMD', 'COMA', 'ARM', 'SRM')", name=op.f("ck_geography_units_type")
        ),
        sa.CheckConstraint(
            "population IS NULL OR population >= 0", name=op.f("ck_geography_units_population")
        ),
        sa.PrimaryKeyConstraint("type", "code", name=op.f("pk_geography_units")),
    )
    op.create_table(
        "territory_memberships",
        sa.Column("member_code", sa.String(length=9), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("parent_code", sa.String(length=9), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint(RELATIONS, name=op.f("ck_territory_memberships_relation")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from",
            name=op.f("ck_territory_memberships_validity"),
        ),
        sa.ForeignKeyConstraint(
            ["member_code"],
            ["territories.code"],
            name=op.f("fk_territory_memberships_member_code_territories"),
        ),
        sa.PrimaryKeyConstraint(
            "member_code", "relation", "valid_from", name=op.f("pk_territory_memberships")
        ),
    )
    op.create_index(
        op.f("ix_territory_memberships_parent_code"),
        "territory_memberships",
        ["parent_code"],
        unique=False,
    )
    op.create_table(
        "territory_boundaries",
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("tolerance", sa.Float(), nullable=False),
        sa.Column("vintage", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["code"], ["territories.code"], name=op.f("fk_territory_boundaries_code_territories")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_territory_boundaries")),
    )
    op.create_table(
        "commune_changes",
        sa.Column("mod", sa.Integer(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("type_before", sa.String(length=4), nullable=False),
        sa.Column("code_before", sa.String(length=5), nullable=False),
        sa.Column("type_after", sa.String(length=4), nullable=False),
        sa.Column("code_after", sa.String(length=5), nullable=False),
        sa.Column("name_before", sa.String(length=200), nullable=False),
        sa.Column("name_after", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint(
            "mod",
            "effective",
            "type_before",
            "code_before",
            "type_after",
            "code_after",
            name=op.f("pk_commune_changes"),
        ),
    )
    op.create_table(
        "geography_sources",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("vintage", sa.Date(), nullable=True),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_geography_sources")),
    )


def downgrade() -> None:
    op.drop_table("geography_sources")
    op.drop_table("commune_changes")
    op.drop_table("territory_boundaries")
    op.drop_index(op.f("ix_territory_memberships_parent_code"), table_name="territory_memberships")
    op.drop_table("territory_memberships")
    op.drop_table("geography_units")
    op.execute("DELETE FROM sector_employment WHERE jobs IS NULL")
    op.alter_column("sector_employment", "jobs", existing_type=sa.BigInteger(), nullable=False)
    op.execute("DELETE FROM perimeters WHERE kind IN ('contrat_territoire', 'ancienne_region')")
    op.drop_constraint(op.f("ck_perimeters_kind"), "perimeters", type_="check")
    op.create_check_constraint(op.f("ck_perimeters_kind"), "perimeters", OLD_KINDS)
    op.drop_column("perimeters", "synthetic")
    op.drop_column("territories", "synthetic")
    op.drop_column("territories", "legal_population")
