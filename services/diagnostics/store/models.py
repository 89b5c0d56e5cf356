"""SQLAlchemy models of the diagnostics service: its own metadata, its own migration history.

Amounts are whole euros (structural data) or integer minor units of a currency (ledger
flows), always ``BigInteger``; CHECK constraints refuse negative figures whatever the path.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, make_metadata


class Base(ServiceBase):
    __abstract__ = True
    metadata = make_metadata()


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _euros(nullable: bool = False) -> Mapped[Any]:
    return mapped_column(BigInteger, nullable=nullable)


TERRITORY_LEVELS = ("region", "departement", "zone_emploi", "epci", "commune")
PERIMETER_KINDS = ("cddra", "cfac", "pnr", "politique_ville")


class Territory(Base):
    """An administrative or statistical territory identified by its INSEE code (SIREN for EPCI)."""

    __tablename__ = "territories"
    __table_args__ = (
        CheckConstraint(
            "level IN ('region', 'departement', 'zone_emploi', 'epci', 'commune')", name="level"
        ),
    )

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    level: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(String(9), index=True)
    created_at: Mapped[datetime] = _created()


class Perimeter(Base):
    """One version of a contract perimeter (CDDRA, CFAC, PNR, politique de la ville):
    the set of communes it covers between ``valid_from`` and ``valid_to`` (exclusive)."""

    __tablename__ = "perimeters"
    __table_args__ = (
        CheckConstraint("kind IN ('cddra', 'cfac', 'pnr', 'politique_ville')", name="kind"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        UniqueConstraint("kind", "code", "valid_from", name="uq_perimeters_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = _created()


class PerimeterCommune(Base):
    """A commune belonging to one perimeter version."""

    __tablename__ = "perimeter_communes"

    perimeter_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("perimeters.id", ondelete="CASCADE"), primary_key=True
    )
    commune_code: Mapped[str] = mapped_column(
        String(9), ForeignKey("territories.code"), primary_key=True
    )


class Sector(Base):
    """A NAF grouping with the INSEE sphere most of its jobs belong to."""

    __tablename__ = "sectors"
    __table_args__ = (CheckConstraint("sphere IN ('presentielle', 'productive')", name="sphere"),)

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    sphere: Mapped[str] = mapped_column(String(20), nullable=False)


_NON_NEGATIVE = (
    "population",
    "productive_wages_eur",
    "productive_self_employed_eur",
    "pensions_eur",
    "commuter_wages_eur",
    "tourism_spending_eur",
    "property_income_eur",
    "public_wages_eur",
    "social_transfers_eur",
    "jobs_presentielle",
    "jobs_productive",
)


class TerritoryYearRow(Base):
    """Structural figures of one territory for one year (whole euros, jobs, inhabitants)."""

    __tablename__ = "territory_years"
    __table_args__ = (
        *(CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in _NON_NEGATIVE),
        CheckConstraint(
            "local_spending_eur IS NULL OR consumption_potential_eur IS NULL "
            "OR local_spending_eur <= consumption_potential_eur",
            name="spending_within_potential",
        ),
    )

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    population: Mapped[int] = _euros()
    productive_wages_eur: Mapped[int] = _euros()
    productive_self_employed_eur: Mapped[int] = _euros()
    pensions_eur: Mapped[int] = _euros()
    commuter_wages_eur: Mapped[int] = _euros()
    tourism_spending_eur: Mapped[int] = _euros()
    property_income_eur: Mapped[int] = _euros()
    public_wages_eur: Mapped[int] = _euros()
    social_transfers_eur: Mapped[int] = _euros()
    jobs_presentielle: Mapped[int] = _euros()
    jobs_productive: Mapped[int] = _euros()
    consumption_potential_eur: Mapped[int | None] = _euros(nullable=True)
    local_spending_eur: Mapped[int | None] = _euros(nullable=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default="EUR")
    source: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class SectorEmployment(Base):
    """Jobs of one territory in one NAF sector for one year."""

    __tablename__ = "sector_employment"
    __table_args__ = (CheckConstraint("jobs >= 0", name="jobs_non_negative"),)

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    sector: Mapped[str] = mapped_column(String(20), primary_key=True)
    jobs: Mapped[int] = mapped_column(BigInteger, nullable=False)
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class DataVersion(Base):
    """One row counting changes to the structural data, so computed years can be cached:
    every import and demo load bumps it in the same transaction as its writes."""

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)


IMPORT_STATUSES = ("running", "succeeded", "rejected")


class Import(Base):
    """One import request: its status, progress and line-by-line report."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'rejected')", name="status"),
        Index("ix_imports_created", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    rows_done: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


TRANSFER_KINDS = ("issuance", "payment", "reconversion")


class CurrencyTransfer(Base):
    """One movement of a local currency derived from a posted ledger transaction
    (payer → payee, minor units), kept to recompute velocity, flows and LM3."""

    __tablename__ = "currency_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind IN ('issuance', 'payment', 'reconversion')", name="kind"),
        Index("ix_currency_transfers_currency_at", "currency", "at", "seq"),
        Index("ix_currency_transfers_payer", "currency", "payer_territory", "at"),
        Index("ix_currency_transfers_payee", "currency", "payee_territory", "at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    currency: Mapped[str] = mapped_column(Text, nullable=False)
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    payer_account: Mapped[str] = mapped_column(Text, nullable=False)
    payee_account: Mapped[str] = mapped_column(Text, nullable=False)
    payer_territory: Mapped[str | None] = mapped_column(Text)
    payee_territory: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CurrencyAggregate(Base):
    """Live counters of one currency in one territory for one month (minor units)."""

    __tablename__ = "currency_aggregates"
    __table_args__ = tuple(
        CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative")
        for c in (
            "transactions",
            "issued",
            "received_from_outside",
            "spent_locally",
            "spent_outside",
            "reconverted",
        )
    )

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    transactions: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    issued: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    received_from_outside: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    spent_locally: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    spent_outside: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    reconverted: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class CurrencyActiveAccount(Base):
    """A circulating account that moved units in a territory, currency and month."""

    __tablename__ = "currency_active_accounts"

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    account: Mapped[str] = mapped_column(Text, primary_key=True)


class GrantAggregate(Base):
    """Grants of one programme in one territory for one month, in one currency (minor
    units): commitments and releases come in euro cents; payments in the paying currency."""

    __tablename__ = "grant_aggregates"
    __table_args__ = tuple(
        CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative")
        for c in ("committed", "released", "payments", "paid")
    )

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    programme: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    committed: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    released: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    payments: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class PendingPublication(Base):
    """An aggregate row changed since it was last published on the live stream.

    Publishing coalesces: a burst of transactions on one (territory, currency, month) makes
    one AggregateUpdated per metric per publish interval, not one per transaction.
    """

    __tablename__ = "pending_publications"

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    marked_at: Mapped[datetime] = _created()
