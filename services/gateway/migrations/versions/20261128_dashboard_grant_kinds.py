"""Dashboard state kinds follow the funding catalogue: committed (budget committed minus
released), ordered and paid, instead of one payment kind and per-application commitments.

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "gateway_0003"
down_revision: str | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_KINDS = "('aggregate', 'ledger', 'committed', 'ordered', 'paid')"
OLD_KINDS = "('aggregate', 'ledger', 'payment', 'commitment')"


def upgrade() -> None:
    # The old grant rows cannot be converted (per-application commitments have no budget
    # movement behind them); they are rebuilt from the stream as events arrive.
    op.execute("DELETE FROM dashboard_state WHERE kind IN ('payment', 'commitment')")
    _replace_kinds(NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM dashboard_state WHERE kind IN ('committed', 'ordered', 'paid')")
    _replace_kinds(OLD_KINDS)


def _replace_kinds(kinds: str) -> None:
    # gateway_0002 named the constraint through the metadata's naming convention, which
    # prefixed it a second time: find it by what it checks rather than by name.
    op.execute(
        """
        DO $$
        DECLARE constraint_name text;
        BEGIN
            FOR constraint_name IN
                SELECT conname FROM pg_constraint
                WHERE conrelid = 'dashboard_state'::regclass AND contype = 'c'
                  AND pg_get_constraintdef(oid) LIKE '%kind%'
            LOOP
                EXECUTE format('ALTER TABLE dashboard_state DROP CONSTRAINT %I', constraint_name);
            END LOOP;
        END $$
        """
    )
    op.execute(
        "ALTER TABLE dashboard_state "
        f"ADD CONSTRAINT ck_dashboard_state_kind CHECK (kind IN {kinds})"
    )
