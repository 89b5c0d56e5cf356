"""Client authority generations: every change of a client's scopes, tenant bindings or
role increments ``generation``, which new tokens carry (``cgen``); tokens carrying an
older one are refused by the gateway and, through ``proxima.gateway.client.changed.v1``,
by every service.

Revision ID: gateway_0005
Revises: gateway_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "gateway_0005"
down_revision: str | None = "gateway_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE clients
            ADD COLUMN generation integer NOT NULL DEFAULT 0 CHECK (generation >= 0),
            ADD COLUMN authority_changed_at timestamptz
        """
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE clients DROP COLUMN IF EXISTS authority_changed_at,"
        " DROP COLUMN IF EXISTS generation"
    )
