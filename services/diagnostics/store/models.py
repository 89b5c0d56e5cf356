"""Temporary: the tables now live in each concept's ``models.py``."""

from services.diagnostics.aggregates.models import (
    CurrencyActiveAccount,
    CurrencyAggregate,
    CurrencyTransfer,
    PendingPublication,
)
from services.diagnostics.database import Base
from services.diagnostics.grants.models import GrantAggregate
from services.diagnostics.imports.models import Import
from services.diagnostics.indicators.models import (
    DataVersion,
    Sector,
    SectorEmployment,
    TerritoryYearRow,
)
from services.diagnostics.perimeters.models import Perimeter, PerimeterCommune
from services.diagnostics.territories.models import Territory

__all__ = [
    "Base",
    "CurrencyActiveAccount",
    "CurrencyAggregate",
    "CurrencyTransfer",
    "DataVersion",
    "GrantAggregate",
    "Import",
    "PendingPublication",
    "Perimeter",
    "PerimeterCommune",
    "Sector",
    "SectorEmployment",
    "Territory",
    "TerritoryYearRow",
]
