"""Audit chain: per-currency SHA-256 hash chain of posted transactions.

Why a separate append-only table filled after commit (by the sealer) rather than a chain
head updated inside every posting transaction: a head row per currency would be locked by
every transfer of that currency and serialise them all. The sealer appends links in short
transactions of its own; see ``services/ledger/audit_sealer.py``.

- ``audit_chain``: one link per (currency, transaction); positions are contiguous from 1 in
  each currency; append-only (the core's ``ledger_refuse_change`` trigger function).
- ``audit_sealer_state``: one row, the sealer's low watermark (every transaction whose
  ``seq`` is at or below it is sealed or was never committed). Mutable by design: it is a
  cursor, not a record.

Revision ID: ledger_0007
Revises: ledger_0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ledger_0007"
down_revision: str | None = "ledger_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = [
    """
    CREATE TABLE audit_chain (
        currency text NOT NULL CONSTRAINT fk_audit_chain_currency_currencies
            REFERENCES currencies (code),
        position bigint NOT NULL CONSTRAINT ck_audit_chain_position CHECK (position >= 1),
        transaction_id uuid NOT NULL CONSTRAINT fk_audit_chain_transaction_id_transactions
            REFERENCES transactions (id),
        prev_hash text NOT NULL CONSTRAINT ck_audit_chain_prev_hash
            CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CONSTRAINT ck_audit_chain_hash CHECK (hash ~ '^[0-9a-f]{64}$'),
        sealed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT pk_audit_chain PRIMARY KEY (currency, position),
        -- (transaction_id, currency) rather than the reverse: the sealer asks "is this
        -- transaction sealed?" without knowing its currencies.
        CONSTRAINT uq_audit_chain_transaction_id_currency UNIQUE (transaction_id, currency)
    )
    """,
    """
    CREATE TRIGGER tr_audit_chain_immutable BEFORE UPDATE OR DELETE ON audit_chain
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER tr_audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TABLE audit_sealer_state (
        id smallint PRIMARY KEY CONSTRAINT ck_audit_sealer_state_single CHECK (id = 1),
        watermark_seq bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "INSERT INTO audit_sealer_state (id) VALUES (1)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS audit_sealer_state")
    op.execute("DROP TABLE IF EXISTS audit_chain")
