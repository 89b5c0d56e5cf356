"""Event tables: outbox, processed events (inbox), dead letters.

Revision ID: diagnostics_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

from shared.events.tables import create_event_tables, drop_event_tables

revision: str = "diagnostics_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_event_tables(op.get_bind())


def downgrade() -> None:
    drop_event_tables(op.get_bind())
