"""Pending publications: aggregate rows changed since last published (coalesced stream).

Revision ID: diagnostics_0005
Revises: diagnostics_0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "diagnostics_0005"
down_revision: str | None = "diagnostics_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_publications",
        sa.Column("territory", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column(
            "marked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "territory", "currency", "period", name=op.f("pk_pending_publications")
        ),
    )


def downgrade() -> None:
    op.drop_table("pending_publications")
