"""Open-data publications: the currencies whose operator opted in.

Revision ID: diagnostics_0007
Revises: diagnostics_0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "diagnostics_0007"
down_revision: str | None = "diagnostics_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "opendata_publications",
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("opted_in_by", sa.Text(), nullable=False),
        sa.Column(
            "opted_in_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("currency", name=op.f("pk_opendata_publications")),
    )


def downgrade() -> None:
    op.drop_table("opendata_publications")
