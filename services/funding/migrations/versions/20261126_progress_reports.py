"""Progress reports with indicators and evaluation; intermediate tranches per programme.

Revision ID: funding_0003
Revises: funding_0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "funding_0003"
down_revision: str | None = "funding_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "programmes",
        sa.Column(
            "intermediate_percents",
            postgresql.ARRAY(sa.Integer()),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_table(
        "progress_reports",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("jobs_created", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("turnover_cents", sa.BigInteger(), nullable=False),
        sa.Column("economic_evaluation", sa.Text(), nullable=False),
        sa.Column("social_evaluation", sa.Text(), nullable=False),
        sa.Column("environmental_evaluation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('intermediate', 'final')", name=op.f("ck_progress_reports_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'rejected')",
            name=op.f("ck_progress_reports_status_known"),
        ),
        sa.CheckConstraint(
            "number >= 1 AND jobs_created >= 0 AND members >= 0 AND turnover_cents >= 0",
            name=op.f("ck_progress_reports_figures_non_negative"),
        ),
        sa.CheckConstraint(
            "(status = 'submitted') = (reviewed_by IS NULL)",
            name=op.f("ck_progress_reports_reviewed_when_decided"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_progress_reports_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_reports")),
        sa.UniqueConstraint("application_id", "kind", "number", name="uq_report_number"),
    )
    op.create_index(
        op.f("ix_progress_reports_application_id"),
        "progress_reports",
        ["application_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_progress_reports_application_id"), table_name="progress_reports")
    op.drop_table("progress_reports")
    op.drop_column("programmes", "intermediate_percents")
