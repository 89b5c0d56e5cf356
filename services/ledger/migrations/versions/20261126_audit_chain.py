"""Audit chain: per-currency SHA-256 hash chain of posted transactions.

(placeholder, filled by the audit work)

Revision ID: ledger_0007
Revises: ledger_0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op  # noqa: F401

revision: str = "ledger_0007"
down_revision: str | None = "ledger_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
