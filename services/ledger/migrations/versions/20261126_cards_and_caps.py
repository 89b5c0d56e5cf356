"""Cards and tokens, monthly load caps and the mutual-credit debt cap.

(placeholder, filled by the cards work)

Revision ID: ledger_0008
Revises: ledger_0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op  # noqa: F401

revision: str = "ledger_0008"
down_revision: str | None = "ledger_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
