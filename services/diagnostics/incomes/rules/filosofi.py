"""Filosofi's income sources, read in INSEE's published layout, without I/O.

INSEE and the DGFiP publish Filosofi (*Fichier localisé social et fiscal*) per level
(communes, EPCI, départements, régions, zones d'emploi), one file per level and vintage,
semicolon CSV with the vintage as a two-digit suffix of every figure column::

    CODGEO;LIBGEO;NBMENFISC21;NBPERSMENFISC21;MED21;…;PACT21;PTSA21;PCHO21;PBEN21;
    PPEN21;PPAT21;PPSOC21;PPFAM21;PPMINI21;PPLOGT21;PIMPOT21;D121;D921;RD21

The shares (``P…``) are percentages of disposable income, so they cannot be summed over
communes: a level gets the figure INSEE publishes for it, never a sum of its communes'.
Columns not read here (deciles, poverty rate, the details of social benefits) are
ignored. A secret cell (``s``, ``nd``, blank) is kept unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from services.diagnostics.incomes.rules.cells import FileRows
from services.diagnostics.incomes.rules.layouts import Layout, read_layout, territory_code

__all__ = ["FIGURES", "FILOSOFI", "LABELS", "LEVELS", "read_filosofi", "territory_code"]

FIGURES: Mapping[str, str] = MappingProxyType(
    {
        "households": "NBMENFISC",
        "persons": "NBPERSMENFISC",
        "median_eur": "MED",
        "activity_share": "PACT",
        "salaries_share": "PTSA",
        "unemployment_share": "PCHO",
        "self_employed_share": "PBEN",
        "pensions_share": "PPEN",
        "property_share": "PPAT",
        "social_benefits_share": "PPSOC",
    }
)
"""Stored figure → Filosofi's variable (without the vintage suffix)."""

LABELS: Mapping[str, str] = MappingProxyType(
    {
        "households": "Ménages fiscaux",
        "persons": "Personnes dans les ménages fiscaux",
        "median_eur": "Médiane du revenu disponible par unité de consommation (€)",
        "activity_share": "Part des revenus d'activité",
        "salaries_share": "dont traitements et salaires",
        "unemployment_share": "dont indemnités de chômage",
        "self_employed_share": "dont revenus des activités non salariées",
        "pensions_share": "Part des pensions, retraites et rentes",
        "property_share": "Part des revenus du patrimoine et autres revenus",
        "social_benefits_share": "Part des prestations sociales",
    }
)
"""French label of each figure, for the API and the report."""

LEVELS = ("commune", "epci", "departement", "region", "zone_emploi")

FILOSOFI = Layout(
    variables=FIGURES,
    column=lambda variable, yy: f"{variable}{yy}",
    optional=frozenset(),
    places=Decimal("0.1"),
    maximum=Decimal("1e11"),
    maxima=MappingProxyType({name: Decimal("1e5") for name in FIGURES if name.endswith("_share")}),
    source="Insee-DGFiP, Filosofi {year}",
)
"""Filosofi's layout: the vintage as a suffix, decimals with one place."""


def read_filosofi(
    header: Sequence[str],
    rows: Sequence[Mapping[Any, object]],
    *,
    level: str,
    known: Mapping[str, str],
) -> FileRows:
    """Validate a Filosofi file of ``level`` against the known territories (code →
    level): every error with its line and INSEE's column, or the rows to store."""
    return read_layout(header, rows, layout=FILOSOFI, level=level, known=known)
