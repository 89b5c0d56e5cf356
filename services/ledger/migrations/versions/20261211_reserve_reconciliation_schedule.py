"""Reserve reconciliation reminders may be scheduled: the operation joins the others in
the schedules' and runs' CHECK constraints.

Revision ID: ledger_0020
Revises: ledger_0016
Create Date: 2026-12-11
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0020"
down_revision: str | None = "ledger_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "('demurrage', 'voucher_expiry', 'hold_expiry', 'closing')"
AFTER = "('demurrage', 'voucher_expiry', 'hold_expiry', 'closing', 'reserve_reconciliation')"
CONSTRAINTS = (
    ("schedules", "ck_schedules_operation"),
    ("schedule_runs", "ck_schedule_runs_operation"),
)


def _allow(operations: str) -> None:
    for table, constraint in CONSTRAINTS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK (operation IN {operations})"
        )


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM schedule_runs WHERE operation = 'reserve_reconciliation'")
    op.execute("DELETE FROM schedules WHERE operation = 'reserve_reconciliation'")
    _allow(BEFORE)
