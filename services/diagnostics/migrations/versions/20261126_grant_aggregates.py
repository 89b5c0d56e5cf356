"""Live grant aggregates fed by the funding service's budget and payment events.

Revision ID: diagnostics_0004
Revises: diagnostics_0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "diagnostics_0004"
down_revision: str | None = "diagnostics_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = ("committed", "released", "payments", "paid")


def upgrade() -> None:
    op.create_table(
        "grant_aggregates",
        sa.Column("territory", sa.Text(), nullable=False),
        sa.Column("programme", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTERS),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        *(
            sa.CheckConstraint(
                f"{name} >= 0", name=op.f(f"ck_grant_aggregates_{name}_non_negative")
            )
            for name in _COUNTERS
        ),
        sa.PrimaryKeyConstraint(
            "territory", "programme", "currency", "period", name=op.f("pk_grant_aggregates")
        ),
    )


def downgrade() -> None:
    op.drop_table("grant_aggregates")
