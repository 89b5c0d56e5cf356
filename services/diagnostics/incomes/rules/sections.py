"""The three sections of the report's residential base (household incomes, income tax,
tourist capacity): which figures, in what French words, derived by which formula."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from services.diagnostics.incomes.rules.residential import (
    Derived,
    Spec,
    Stocks,
    Value,
    basis_label,
    figures,
    plus,
    ratio,
    source_line,
)

BEDS_PER_ROOM, BEDS_PER_PITCH, BEDS_PER_SECONDARY_HOME = 2, 3, 5
"""The usual conversion into tourist beds (INSEE, the DGE and the tourism observatories):
2 beds a hotel room, 3 a campsite pitch, 5 a secondary home."""

INCOME_TAX: Mapping[str, Spec] = MappingProxyType(
    {
        "tax_households": Spec(
            "Foyers fiscaux", "count", "foyers", "Nombre de déclarations de revenus déposées."
        ),
        "reference_income_eur": Spec(
            "Revenu fiscal de référence",
            "eur",
            "€ par an",
            "Revenus déclarés par les foyers, base de calcul de l'impôt.",
        ),
        "reference_income_per_household": Spec(
            "Revenu fiscal de référence par foyer",
            "eur",
            "€ par foyer",
            "Revenu fiscal de référence total divisé par le nombre de foyers fiscaux.",
        ),
        "net_tax_eur": Spec(
            "Impôt net sur le revenu",
            "eur",
            "€ par an",
            "Impôt dû par les foyers après réductions et crédits d'impôt.",
        ),
        "taxed_share": Spec(
            "Part des foyers fiscaux imposés",
            "ratio",
            "part des foyers",
            "Foyers qui paient l'impôt sur le revenu, rapportés à l'ensemble des foyers.",
        ),
        "salaries_eur": Spec(
            "Traitements et salaires déclarés",
            "eur",
            "€ par an",
            "Salaires déclarés par les habitants, qu'ils travaillent ici ou ailleurs.",
        ),
        "pensions_eur": Spec(
            "Retraites et pensions déclarées",
            "eur",
            "€ par an",
            "Revenus des retraités, apport le plus régulier de la base résidentielle.",
        ),
        "pensions_share": Spec(
            "Part des retraites et pensions",
            "ratio",
            "part des salaires et pensions",
            "Retraites et pensions rapportées à la somme des salaires et des pensions déclarés.",
        ),
    }
)

_INCOME_TAX_DERIVED: Mapping[str, Derived] = MappingProxyType(
    {
        "reference_income_per_household": lambda v, _: ratio(
            v["reference_income_eur"], v["tax_households"]
        ),
        "taxed_share": lambda v, _: ratio(v["taxed_households"], v["tax_households"]),
        "pensions_share": lambda v, _: ratio(
            v["pensions_eur"], plus(v["salaries_eur"], v["pensions_eur"])
        ),
    }
)

TOURISM: Mapping[str, Spec] = MappingProxyType(
    {
        "hotel_rooms": Spec(
            "Chambres d'hôtel", "count", "chambres", "Chambres des hôtels classés ou non."
        ),
        "upscale_hotel_rooms": Spec(
            "dont chambres en hôtels 4 et 5 étoiles",
            "count",
            "chambres",
            "Capacité hôtelière haut de gamme, signe d'une clientèle à forte dépense.",
        ),
        "campsite_pitches": Spec(
            "Emplacements de camping",
            "count",
            "emplacements",
            "Emplacements des terrains de camping classés.",
        ),
        "collective_beds": Spec(
            "Lits en hébergements collectifs",
            "count",
            "lits",
            "Lits des villages de vacances, résidences de tourisme et auberges de jeunesse.",
        ),
        "secondary_homes": Spec(
            "Résidences secondaires",
            "count",
            "logements",
            "Résidences secondaires et logements occasionnels recensés.",
        ),
        "tourist_beds": Spec(
            "Lits touristiques (estimation)",
            "count",
            "lits",
            "Deux lits par chambre d'hôtel, trois par emplacement, cinq par résidence "
            "secondaire, plus les lits des hébergements collectifs.",
        ),
        "tourist_function_rate": Spec(
            "Taux de fonction touristique",
            "per_100",
            "lits pour 100 habitants",
            "Au-delà de 100, le territoire peut accueillir plus de touristes qu'il ne compte "
            "d'habitants.",
        ),
    }
)


def _beds(v: Mapping[str, Value]) -> Value:
    """Estimated tourist beds: the usual weights, plus collective beds as counted."""
    return plus(
        v["hotel_rooms"],
        v["campsite_pitches"],
        v["secondary_homes"],
        v["holiday_village_beds"],
        v["tourist_residence_beds"],
        v["hostel_beds"],
        weights=(BEDS_PER_ROOM, BEDS_PER_PITCH, BEDS_PER_SECONDARY_HOME, 1, 1, 1),
    )


def _percent(name: str) -> Derived:
    return lambda v, _: ratio(v[name], 100)


_TOURISM_DERIVED: Mapping[str, Derived] = MappingProxyType(
    {
        "upscale_hotel_rooms": lambda v, _: plus(
            v["hotel_rooms_4_stars"], v["hotel_rooms_5_stars"]
        ),
        "collective_beds": lambda v, _: plus(
            v["holiday_village_beds"], v["tourist_residence_beds"], v["hostel_beds"]
        ),
        "tourist_beds": lambda v, _: _beds(v),
        "tourist_function_rate": lambda v, population: ratio(_beds(v), population, 100),
    }
)

FILOSOFI: Mapping[str, Spec] = MappingProxyType(
    {
        "median_eur": Spec(
            "Revenu disponible médian par unité de consommation",
            "eur",
            "€ par an",
            "La moitié des habitants vit avec moins, l'autre moitié avec plus.",
        ),
        "activity_share": Spec(
            "Part des revenus d'activité",
            "ratio",
            "part du revenu disponible",
            "Salaires, indemnités de chômage et revenus des indépendants.",
        ),
        "pensions_share": Spec(
            "Part des pensions, retraites et rentes",
            "ratio",
            "part du revenu disponible",
            "Ce que les retraités apportent au revenu des ménages du territoire.",
        ),
        "property_share": Spec(
            "Part des revenus du patrimoine",
            "ratio",
            "part du revenu disponible",
            "Loyers, intérêts et dividendes perçus par les ménages.",
        ),
        "social_benefits_share": Spec(
            "Part des prestations sociales",
            "ratio",
            "part du revenu disponible",
            "Prestations familiales, minima sociaux et aides au logement.",
        ),
    }
)

_FILOSOFI_DERIVED: Mapping[str, Derived] = MappingProxyType(
    {name: _percent(name) for name in FILOSOFI if name.endswith("share")}
)
"""Filosofi publishes percentages; the report reads ratios."""

TITLES = MappingProxyType(
    {
        "filosofi": "Sources du revenu disponible des ménages",
        "income_tax": "Impôt sur le revenu et revenus déclarés",
        "tourism": "Capacité d'accueil touristique",
    }
)
_SPECS = {"filosofi": FILOSOFI, "income_tax": INCOME_TAX, "tourism": TOURISM}
_DERIVED = {
    "filosofi": _FILOSOFI_DERIVED,
    "income_tax": _INCOME_TAX_DERIVED,
    "tourism": _TOURISM_DERIVED,
}
FILOSOFI_NOT_SUMMED = (
    "Filosofi ne publie pas de chiffre pour ce territoire, et ses parts de revenu ne "
    "s'additionnent pas d'une commune à l'autre."
)


def section(
    key: str,
    found: Stocks,
    *,
    population: int | None,
    geography: int | None,
    extra_sources: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One section of the residential base as the report's JSON: title, vintage, source
    and geography line, where the figures come from, and every figure with its words."""
    listed = figures(_SPECS[key], found, _DERIVED[key], population)
    note = FILOSOFI_NOT_SUMMED if key == "filosofi" and found.basis == "none" else None
    sources = [line for line in (source_line(found, geography), *extra_sources) if line]
    return {
        "key": key,
        "title": TITLES[key],
        "year": found.year,
        "basis": found.basis,
        "basis_label": basis_label(found),
        "sources": sources,
        "note": note,
        "figures": listed,
        "unknown": [f["name"] for f in listed if f["value"] is None],
    }
