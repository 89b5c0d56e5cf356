"""The latest instruments' figures (loans and guarantees) of each département, fed by
funding's ``instrument.figures`` events.

Revision ID: diagnostics_0009
Revises: diagnostics_0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "diagnostics_0009"
down_revision: str | None = "diagnostics_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NON_NEGATIVE = ("instruments", "public_cents", "bank_loans_cents", "due_cents", "repaid_cents")


def upgrade() -> None:
    op.create_table(
        "instrument_figures",
        sa.Column("territory", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _NON_NEGATIVE),
        sa.Column("losses_cents", sa.BigInteger(), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        *(
            sa.CheckConstraint(
                f"{name} >= 0", name=op.f(f"ck_instrument_figures_{name}_non_negative")
            )
            for name in _NON_NEGATIVE
        ),
        sa.PrimaryKeyConstraint("territory", name=op.f("pk_instrument_figures")),
    )


def downgrade() -> None:
    op.drop_table("instrument_figures")
