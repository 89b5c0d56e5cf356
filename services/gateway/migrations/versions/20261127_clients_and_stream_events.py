"""Client registry (clients, hashed secrets), the live stream's event table and the
dashboard state folded from it.

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "gateway_0002"
down_revision: str | None = "gateway_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STREAM_CHANNEL = "proxima_gateway_stream"


def _array(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, postgresql.ARRAY(sa.String(100)), nullable=False, server_default="{}")


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        _array("scopes"),
        _array("currencies"),
        _array("programmes"),
        _array("envelopes"),
        _array("territories"),
        sa.Column("rate_limit_per_minute", sa.Integer()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_reason", sa.String(500)),
        sa.PrimaryKeyConstraint("client_id", name="pk_clients"),
        sa.CheckConstraint(
            "client_id ~ '^[a-z0-9][a-z0-9._-]{1,63}$'", name="ck_clients_client_id_format"
        ),
        sa.CheckConstraint(
            "rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0",
            name="ck_clients_rate_limit_positive",
        ),
    )
    op.create_table(
        "client_secrets",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_client_secrets"),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.client_id"],
            ondelete="CASCADE",
            name="fk_client_secrets_client_id_clients",
        ),
        sa.CheckConstraint(
            "secret_hash LIKE '$argon2id$%'", name="ck_client_secrets_argon2id_only"
        ),
    )
    op.create_index("ix_client_secrets_client_id", "client_secrets", ["client_id"])

    op.create_table(
        "stream_events",
        sa.Column("position", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("event_key", sa.String(400), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("territory", sa.String(100)),
        sa.Column("currency", sa.String(100)),
        sa.Column("programme", sa.String(100)),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_stream_events"),
    )
    op.create_index("ix_stream_events_recorded_at", "stream_events", ["recorded_at"])
    op.create_index("ix_stream_events_type_position", "stream_events", ["event_type", "position"])
    op.create_table(
        "dashboard_state",
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("territory", sa.String(100)),
        sa.Column("currency", sa.String(100)),
        sa.Column("programme", sa.String(100)),
        sa.Column("metric", sa.String(100)),
        sa.Column("value", sa.Float()),
        sa.Column("unit", sa.String(50)),
        sa.Column("period", sa.String(20)),
        sa.Column("amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("key", name="pk_dashboard_state"),
        sa.CheckConstraint(
            "kind IN ('aggregate', 'ledger', 'payment', 'commitment')",
            name="ck_dashboard_state_kind",
        ),
    )
    # Every gateway replica LISTENs and fans new rows out to its own SSE clients, whichever
    # replica's consumer wrote them.
    op.execute(
        "CREATE FUNCTION stream_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{STREAM_CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER stream_events_appended AFTER INSERT ON stream_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION stream_events_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS stream_events_appended ON stream_events")
    op.execute("DROP FUNCTION IF EXISTS stream_events_notify()")
    op.drop_table("dashboard_state")
    op.drop_table("stream_events")
    op.drop_index("ix_client_secrets_client_id", table_name="client_secrets")
    op.drop_table("client_secrets")
    op.drop_table("clients")
