"""Posting history: running balance per posting, for balance at any instant.

(placeholder, filled by the balance-at-instant work)

Revision ID: ledger_0006
Revises: ledger_0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op  # noqa: F401

revision: str = "ledger_0006"
down_revision: str | None = "ledger_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
