"""Instruments besides grants: repayable advances, honour loans, participatory loans and
guarantees, their schedule versions and instalments, repayments, write-offs (four eyes),
guarantee calls and recoveries.

Revision ID: funding_0005
Revises: funding_0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funding_0005"
down_revision: str | None = "funding_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "instrument_write_offs",
    "guarantee_recoveries",
    "guarantee_calls",
    "instrument_repayments",
    "instrument_instalments",
    "instrument_schedules",
    "instruments",
)


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("decision_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("deferral_months", sa.Integer(), nullable=True),
        sa.Column("instalments", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.String(length=20), nullable=True),
        sa.Column("annual_rate_bp", sa.Integer(), nullable=True),
        sa.Column("bank_name", sa.String(length=200), nullable=True),
        sa.Column("bank_loan_cents", sa.BigInteger(), nullable=True),
        sa.Column("covered_share_percent", sa.Integer(), nullable=True),
        sa.Column("fee_bp", sa.Integer(), nullable=True),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'guarantee') = (bank_loan_cents IS NOT NULL AND instalments IS NULL)",
            name=op.f("ck_instruments_terms_fit_kind"),
        ),
        sa.CheckConstraint(
            "frequency IS NULL OR frequency IN ('monthly', 'quarterly', 'semiannual', 'annual')",
            name=op.f("ck_instruments_frequency_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('repayable_advance', 'honour_loan', 'participatory_loan', 'guarantee')",
            name=op.f("ck_instruments_kind_known"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_instruments_amount_positive")),
        sa.CheckConstraint(
            "bank_loan_cents IS NULL OR bank_loan_cents > 0",
            name=op.f("ck_instruments_bank_loan_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_instruments_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["committee_decisions.id"],
            name=op.f("fk_instruments_decision_id_committee_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint("application_id", name="uq_instrument_per_application"),
    )
    op.create_index(
        op.f("ix_instruments_application_id"), "instruments", ["application_id"], unique=False
    )
    op.create_index(
        op.f("ix_instruments_decision_id"), "instruments", ["decision_id"], unique=False
    )
    op.create_table(
        "instrument_schedules",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("instrument_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("base_repaid_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "base_repaid_cents >= 0", name=op.f("ck_instrument_schedules_base_not_negative")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_instrument_schedules_version_positive")),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_instrument_schedules_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_schedules")),
        sa.UniqueConstraint("instrument_id", "version", name="uq_schedule_version"),
    )
    op.create_index(
        op.f("ix_instrument_schedules_instrument_id"),
        "instrument_schedules",
        ["instrument_id"],
        unique=False,
    )
    op.create_table(
        "instrument_instalments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("schedule_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal_cents", sa.BigInteger(), nullable=False),
        sa.Column("interest_cents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "principal_cents >= 0 AND interest_cents >= 0",
            name=op.f("ck_instrument_instalments_instalment_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["instrument_schedules.id"],
            name=op.f("fk_instrument_instalments_schedule_id_instrument_schedules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_instalments")),
        sa.UniqueConstraint("schedule_id", "number", name="uq_instalment_number"),
    )
    op.create_index(
        op.f("ix_instrument_instalments_schedule_id"),
        "instrument_instalments",
        ["schedule_id"],
        unique=False,
    )
    op.create_table(
        "instrument_repayments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("instrument_id", sa.UUID(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "amount_cents > 0", name=op.f("ck_instrument_repayments_repayment_positive")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_instrument_repayments_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_repayments")),
    )
    op.create_index(
        op.f("ix_instrument_repayments_instrument_id"),
        "instrument_repayments",
        ["instrument_id"],
        unique=False,
    )
    op.create_table(
        "guarantee_calls",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("instrument_id", sa.UUID(), nullable=False),
        sa.Column("defaulted_on", sa.Date(), nullable=False),
        sa.Column("outstanding_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outstanding_cents > 0 AND paid_cents > 0",
            name=op.f("ck_guarantee_calls_call_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_guarantee_calls_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantee_calls")),
        sa.UniqueConstraint("instrument_id", name="uq_guarantee_called_once"),
    )
    op.create_index(
        op.f("ix_guarantee_calls_instrument_id"), "guarantee_calls", ["instrument_id"], unique=False
    )
    op.create_table(
        "guarantee_recoveries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("instrument_id", sa.UUID(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "amount_cents > 0", name=op.f("ck_guarantee_recoveries_recovery_positive")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_guarantee_recoveries_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guarantee_recoveries")),
    )
    op.create_index(
        op.f("ix_guarantee_recoveries_instrument_id"),
        "guarantee_recoveries",
        ["instrument_id"],
        unique=False,
    )

    op.create_table(
        "instrument_write_offs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("instrument_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owed_cents", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(approved_by IS NULL) = (approved_at IS NULL)",
            name=op.f("ck_instrument_write_offs_approved_when"),
        ),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> requested_by",
            name=op.f("ck_instrument_write_offs_four_eyes"),
        ),
        sa.CheckConstraint(
            "owed_cents > 0", name=op.f("ck_instrument_write_offs_write_off_positive")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_instrument_write_offs_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_write_offs")),
        sa.UniqueConstraint("instrument_id", name="uq_write_off_once"),
    )
    op.create_index(
        op.f("ix_instrument_write_offs_instrument_id"),
        "instrument_write_offs",
        ["instrument_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
