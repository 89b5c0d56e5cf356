"""SQLAlchemy Core tables of clearing between currencies, on the ledger's metadata (kept
apart from `tables` only for length; created by migration ``ledger_0017``)."""

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Integer, Table, Text, Uuid

from services.ledger.database.tables import metadata

clearing_terms = Table(
    "clearing_terms",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("clearing_account", Uuid, nullable=False),
    Column("fee_account", Uuid),
    Column("payer_fee_bp", Integer, nullable=False),
    Column("payer_fee_min", BigInteger, nullable=False),
    Column("payee_fee_bp", Integer, nullable=False),
    Column("payee_fee_min", BigInteger, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("authorised_by", Text, nullable=False),
    Column("authorised_at", DateTime(timezone=True)),
)

clearing_payments = Table(
    "clearing_payments",
    metadata,
    Column("transaction_id", Uuid, primary_key=True),
    Column("payer_currency", Text, nullable=False),
    Column("payee_currency", Text, nullable=False),
    Column("currency_low", Text),
    Column("currency_high", Text),
    Column("payer_account", Uuid, nullable=False),
    Column("payee_account", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("payer_fee", BigInteger, nullable=False),
    Column("payee_fee", BigInteger, nullable=False),
    Column("period", Date, nullable=False),
    Column("settlement_id", Uuid),
    Column("paid_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True)),
)

clearing_settlements = Table(
    "clearing_settlements",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("currency_low", Text, nullable=False),
    Column("currency_high", Text, nullable=False),
    Column("period", Date, nullable=False),
    Column("low_to_high", BigInteger, nullable=False),
    Column("high_to_low", BigInteger, nullable=False),
    Column("payments", Integer, nullable=False),
    Column("payer_currency", Text),
    Column("payee_currency", Text),
    Column("amount", BigInteger, nullable=False),
    Column("transaction_id", Uuid),
    Column("settled_by", Text, nullable=False),
    Column("settled_at", DateTime(timezone=True)),
)
