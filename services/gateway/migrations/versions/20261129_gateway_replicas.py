"""Gateway replicas: each live replica's heartbeat, so replicas can count each other and
share a client's rate limit between them.

Revision ID: gateway_0004
Revises: gateway_0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "gateway_0004"
down_revision: str | None = "gateway_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE gateway_replicas (
            replica_id text PRIMARY KEY,
            started_at timestamptz NOT NULL DEFAULT now(),
            heartbeat_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS gateway_replicas")
