"""Instruments through the ledger: a repayment in local currency is a direct debit the
ledger posts (ordered, then settled or failed by its answer), a guarantee call in local
currency a payment it posts; euro repayments and calls stay recorded at once.

Envelopes know what comes back (expected and received repayments, recoveries, losses) and
a revolving programme re-lends it: ``relendable_cents`` raises the AP and CP bounds.

Jobs declared at decision, the guarantee fee recorded, and follow-ups of the supported
firms at 1, 3 and 5 years (still active? jobs then) for the survival rates.

Revision ID: funding_0006
Revises: funding_0005
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funding_0006"
down_revision: str | None = "funding_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {
    "instrument_repayments": ("recorded", "'recorded', 'ordered', 'settled', 'failed'"),
    "guarantee_calls": ("paid", "'paid', 'ordered', 'failed'"),
}

RETURNS = (
    "expected_repayments_cents",
    "repaid_cents",
    "recovered_cents",
    "losses_cents",
    "relendable_cents",
)
BOUNDS = {
    "committed_within_ap": (
        "committed_cents <= ap_cents",
        "committed_cents <= ap_cents + relendable_cents",
    ),
    "paid_within_cp": (
        "paid_cents + ordered_cents <= cp_cents",
        "paid_cents + ordered_cents <= cp_cents + relendable_cents",
    ),
}


def _envelope_returns() -> None:
    op.add_column(
        "programmes",
        sa.Column("revolving", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    for column in RETURNS:
        op.add_column(
            "envelopes", sa.Column(column, sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_check_constraint(
        op.f("ck_envelopes_returns_non_negative"),
        "envelopes",
        " AND ".join(f"{c} >= 0" for c in RETURNS),
    )
    for name, (_, bound) in BOUNDS.items():
        op.drop_constraint(op.f(f"ck_envelopes_{name}"), "envelopes", type_="check")
        op.create_check_constraint(op.f(f"ck_envelopes_{name}"), "envelopes", bound)


def _drop_envelope_returns() -> None:
    for name, (bound, _) in BOUNDS.items():
        op.drop_constraint(op.f(f"ck_envelopes_{name}"), "envelopes", type_="check")
        op.create_check_constraint(op.f(f"ck_envelopes_{name}"), "envelopes", bound)
    op.drop_constraint(op.f("ck_envelopes_returns_non_negative"), "envelopes", type_="check")
    for column in RETURNS:
        op.drop_column("envelopes", column)
    op.drop_column("programmes", "revolving")


def _follow_ups() -> None:
    op.add_column("instruments", sa.Column("jobs_declared", sa.Integer(), nullable=True))
    op.add_column("instruments", sa.Column("fee_cents", sa.BigInteger(), nullable=True))
    op.create_check_constraint(
        op.f("ck_instruments_jobs_and_fee_not_negative"),
        "instruments",
        "(jobs_declared IS NULL OR jobs_declared >= 0) AND (fee_cents IS NULL OR fee_cents >= 0)",
    )
    op.execute(
        "UPDATE instruments SET fee_cents = bank_loan_cents * fee_bp / 10000 "
        "WHERE kind = 'guarantee' AND fee_bp IS NOT NULL"
    )
    op.create_table(
        "instrument_follow_ups",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("instrument_id", sa.UUID(), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("years IN (1, 3, 5)", name=op.f("ck_instrument_follow_ups_years_known")),
        sa.CheckConstraint("jobs >= 0", name=op.f("ck_instrument_follow_ups_jobs_not_negative")),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_instrument_follow_ups_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_follow_ups")),
        sa.UniqueConstraint("instrument_id", "years", name="uq_follow_up_per_year"),
    )
    op.create_index(
        op.f("ix_instrument_follow_ups_instrument_id"), "instrument_follow_ups", ["instrument_id"]
    )


def upgrade() -> None:
    _envelope_returns()
    _follow_ups()
    for table, (default, statuses) in TABLES.items():
        op.add_column(
            table,
            sa.Column("status", sa.String(length=20), nullable=False, server_default=default),
        )
        op.add_column(table, sa.Column("order_id", sa.UUID(), nullable=True))
        op.add_column(table, sa.Column("currency_code", sa.String(length=20), nullable=True))
        op.add_column(table, sa.Column("transaction_id", sa.String(length=100), nullable=True))
        op.add_column(table, sa.Column("paid_units", sa.BigInteger(), nullable=True))
        op.add_column(table, sa.Column("failure_reason", sa.Text(), nullable=True))
        op.create_unique_constraint(op.f(f"uq_{table}_order_id"), table, ["order_id"])
        op.create_check_constraint(
            op.f(f"ck_{table}_status_known"), table, f"status IN ({statuses})"
        )
        op.create_check_constraint(
            op.f(f"ck_{table}_ordered_has_order"),
            table,
            f"status = '{default}' OR (order_id IS NOT NULL AND currency_code IS NOT NULL)",
        )
        op.create_check_constraint(
            op.f(f"ck_{table}_failed_reason"),
            table,
            "status <> 'failed' OR failure_reason IS NOT NULL",
        )


def downgrade() -> None:
    op.drop_table("instrument_follow_ups")
    op.drop_constraint(
        op.f("ck_instruments_jobs_and_fee_not_negative"), "instruments", type_="check"
    )
    op.drop_column("instruments", "fee_cents")
    op.drop_column("instruments", "jobs_declared")
    _drop_envelope_returns()
    for table in TABLES:
        for name in ("failed_reason", "ordered_has_order", "status_known"):
            op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
        op.drop_constraint(op.f(f"uq_{table}_order_id"), table, type_="unique")
        for column in (
            "failure_reason",
            "paid_units",
            "transaction_id",
            "currency_code",
            "order_id",
            "status",
        ):
            op.drop_column(table, column)
