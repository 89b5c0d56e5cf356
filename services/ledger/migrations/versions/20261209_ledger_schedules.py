"""Scheduled operations: each currency's schedules (its operator's standing orders) and the
history of their runs.

``schedule_runs`` holds one row per (currency, operation, occurrence): the unique key is
what makes an occurrence run once even if two replicas both believed they led.

Revision ID: ledger_0014
Revises: ledger_0013
Create Date: 2026-12-09
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0014"
down_revision: str | None = "ledger_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATIONS = "('demurrage', 'voucher_expiry', 'hold_expiry', 'closing')"

STATEMENTS = (
    f"""
    CREATE TABLE schedules (
        currency text NOT NULL CONSTRAINT fk_schedules_currency_currencies
            REFERENCES currencies (code),
        operation text NOT NULL CONSTRAINT ck_schedules_operation
            CHECK (operation IN {OPERATIONS}),
        cadence text NOT NULL CONSTRAINT ck_schedules_cadence
            CHECK (cadence IN ('daily', 'weekly', 'monthly')),
        local_time time without time zone NOT NULL,
        starts_at timestamptz NOT NULL,
        fund_account uuid CONSTRAINT fk_schedules_fund_account_accounts REFERENCES accounts (id),
        authorised_by text NOT NULL CONSTRAINT ck_schedules_authorised_by
            CHECK (authorised_by <> ''),
        authorised_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_schedules PRIMARY KEY (currency, operation)
    )
    """,
    f"""
    CREATE TABLE schedule_runs (
        id uuid PRIMARY KEY,
        currency text NOT NULL CONSTRAINT fk_schedule_runs_currency_currencies
            REFERENCES currencies (code),
        operation text NOT NULL CONSTRAINT ck_schedule_runs_operation
            CHECK (operation IN {OPERATIONS}),
        scheduled_for timestamptz NOT NULL,
        authorised_by text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        outcome text NOT NULL DEFAULT 'running' CONSTRAINT ck_schedule_runs_outcome
            CHECK (outcome IN ('running', 'succeeded', 'skipped', 'failed')),
        attempts integer NOT NULL DEFAULT 1,
        progress jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        error jsonb,
        CONSTRAINT uq_schedule_runs_occurrence UNIQUE (currency, operation, scheduled_for),
        CONSTRAINT ck_schedule_runs_finished
            CHECK ((outcome = 'running') = (finished_at IS NULL))
    )
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE schedule_runs, schedules")
