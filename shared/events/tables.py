"""The tables every service database carries for its events: the outbox (events to
publish), the inbox (events already applied) and the dead letters (events given up on).

Each service's first Alembic revision creates them with `create_event_tables`, so the
definitions live once, here.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.engine import Connection

from shared.db import make_metadata

metadata = make_metadata()

OUTBOX_CHANNEL = "proxima_outbox"

outbox = Table(
    "outbox",
    metadata,
    Column("position", BigInteger, Identity(), primary_key=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("event_type", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
)
Index(
    "ix_outbox_unpublished",
    outbox.c.position,
    postgresql_where=outbox.c.published_at.is_(None),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(200), nullable=False),
    Column("dedup_key", String(400), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "dedup_key"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("consumer", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("record_offset", BigInteger, nullable=False),
    Column("key", String(200)),
    Column("event_type", String(200)),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("replayed_at", DateTime(timezone=True)),
)

EVENT_TABLES = (outbox, processed_events, dead_letters)


def create_event_tables(bind: Connection) -> None:
    """Create the three tables and the trigger that wakes the relay on every insert."""
    for table in EVENT_TABLES:
        table.create(bind)
    bind.execute(
        text(
            "CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN PERFORM pg_notify('{OUTBOX_CHANNEL}', ''); RETURN NULL; END $$"
        )
    )
    bind.execute(
        text(
            "CREATE TRIGGER outbox_appended AFTER INSERT ON outbox "
            "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
        )
    )


def drop_event_tables(bind: Connection) -> None:
    for table in reversed(EVENT_TABLES):
        table.drop(bind)
    bind.execute(text("DROP FUNCTION IF EXISTS outbox_notify()"))
