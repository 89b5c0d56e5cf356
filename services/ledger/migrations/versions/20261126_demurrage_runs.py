"""Demurrage runs: one row per (currency, period), with progress, so a run is idempotent per
period and resumes after a crash (each account's charge is keyed in idempotency_keys).

Revision ID: ledger_0004
Revises: ledger_0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0004"
down_revision: str | None = "ledger_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE demurrage_runs (
            run_key text PRIMARY KEY,
            currency text NOT NULL CONSTRAINT fk_demurrage_runs_currency_currencies
                REFERENCES currencies (code),
            period_start date NOT NULL,
            period_end date NOT NULL,
            fund_account uuid NOT NULL CONSTRAINT fk_demurrage_runs_fund_account_accounts
                REFERENCES accounts (id),
            status text NOT NULL DEFAULT 'running' CONSTRAINT ck_demurrage_runs_status
                CHECK (status IN ('running', 'completed')),
            accounts_total integer NOT NULL DEFAULT 0,
            accounts_done integer NOT NULL DEFAULT 0,
            charged_total bigint NOT NULL DEFAULT 0,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            CONSTRAINT uq_demurrage_runs_currency UNIQUE (currency, period_start)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS demurrage_runs")
