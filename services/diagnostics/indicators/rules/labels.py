"""The French words a reader sees for every identifier of the diagnostics: indicator
labels, units and one-sentence meanings, engines, levels and perimeter kinds. API field
names stay English; nothing snake_case reaches a page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Label:
    """How an indicator reads in French: its name, its unit and what it means."""

    label: str
    unit: str
    meaning: str


INDICATOR_LABELS: Mapping[str, Label] = MappingProxyType(
    {
        "basic_income": Label(
            "Revenu basique",
            "€ par an",
            "Somme des revenus qui entrent dans le territoire par ses quatre moteurs.",
        ),
        "basic_income_per_inhabitant": Label(
            "Revenu basique par habitant",
            "€ par habitant et par an",
            "Ce que les moteurs du territoire apportent en moyenne à chaque habitant.",
        ),
        "share_productive": Label(
            "Part du moteur productif",
            "part du revenu basique",
            "Poids des revenus tirés des biens et services vendus hors du territoire.",
        ),
        "share_residential": Label(
            "Part du moteur résidentiel",
            "part du revenu basique",
            "Poids des revenus apportés par les retraités, les navetteurs et les touristes.",
        ),
        "share_public": Label(
            "Part du moteur public",
            "part du revenu basique",
            "Poids des salaires de la fonction publique dans le revenu basique.",
        ),
        "share_social": Label(
            "Part du moteur social",
            "part du revenu basique",
            "Poids des prestations sociales dans le revenu basique.",
        ),
        "engine_concentration": Label(
            "Concentration des moteurs",
            "indice de 0 à 1",
            "Plus il est proche de 1, plus le territoire dépend d'un seul moteur.",
        ),
        "engine_evenness": Label(
            "Équilibre des moteurs",
            "indice de 0 à 1",
            "Plus il est proche de 1, plus les quatre moteurs pèsent de façon égale.",
        ),
        "income_per_proximity_job": Label(
            "Revenu basique par emploi présentiel",
            "€ par emploi",
            "Plus il est bas, plus chaque euro entré fait vivre d'emplois de proximité.",
        ),
        "proximity_jobs_per_million": Label(
            "Emplois présentiels par million d'euros",
            "emplois par M€",
            "Nombre d'emplois de proximité qu'entretient chaque million de revenu basique.",
        ),
        "presentielle_share": Label(
            "Part de l'emploi présentiel",
            "part des emplois",
            "Part des emplois qui servent les personnes présentes sur le territoire.",
        ),
        "base_multiplier_jobs": Label(
            "Multiplicateur d'emploi",
            "emplois par emploi productif",
            "Nombre total d'emplois qui accompagnent chaque emploi de la sphère productive.",
        ),
        "sector_concentration": Label(
            "Concentration sectorielle",
            "indice de 0 à 1",
            "Plus il est élevé, plus l'emploi se concentre dans peu de secteurs.",
        ),
        "krugman_specialisation": Label(
            "Indice de spécialisation de Krugman",
            "indice de 0 à 2",
            "Écart entre la structure sectorielle du territoire et celle de la référence.",
        ),
        "retention_rate": Label(
            "Taux de rétention",
            "part du potentiel",
            "Part de la consommation des habitants dépensée sur le territoire.",
        ),
        "leakage_rate": Label(
            "Taux d'évasion",
            "part du potentiel",
            "Part de la consommation des habitants dépensée hors du territoire.",
        ),
        "currency_velocity": Label(
            "Vitesse de circulation de la monnaie locale",
            "rotations par période",
            "Nombre de fois qu'une unité de monnaie locale change de main sur la période.",
        ),
        "currency_local_respend": Label(
            "Redépense locale de la monnaie locale",
            "part des sorties",
            "Part des paiements en monnaie locale qui restent dans le territoire.",
        ),
        "currency_reconversion_leakage": Label(
            "Fuite par reconversion",
            "part des sorties",
            "Part de la monnaie locale reconvertie en euros plutôt que redépensée.",
        ),
        "currency_lm3": Label(
            "Multiplicateur local LM3",
            "rapport",
            "Ce que chaque euro dépensé produit de dépenses sur trois tours dans le territoire.",
        ),
    }
)

ENGINE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "productive": "Moteur productif",
        "residential": "Moteur résidentiel",
        "public": "Moteur public",
        "social": "Moteur social",
    }
)

MODEL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "productive": "productif",
        "residential": "résidentiel",
        "public": "public",
        "social": "social",
        "balanced": "équilibré",
    }
)

LEVEL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "region": "région",
        "departement": "département",
        "zone_emploi": "zone d'emploi",
        "epci": "intercommunalité (EPCI)",
        "commune": "commune",
        "cddra": "CDDRA",
        "cfac": "CFAC",
        "pnr": "parc naturel régional",
        "politique_ville": "quartier de la politique de la ville",
        "contrat_territoire": "contrat de territoire",
        "ancienne_region": "ancienne région",
    }
)


def label_of(indicator: str) -> Label:
    """The French label of an indicator (its name, humanised, if none is written)."""
    found = INDICATOR_LABELS.get(indicator)
    if found is not None:
        return found
    return Label(indicator.replace("_", " ").capitalize(), "", "")


FLAG_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "income per proximity job is undefined with zero such jobs": "aucun emploi présentiel",
        "jobs per M€ is undefined with zero basic income": "revenu basique nul",
        "présentielle share is undefined for a territory with no jobs": "aucun emploi",
        "the base multiplier is undefined with zero basic jobs": "aucun emploi productif",
        "specialisation is undefined when a territory has no jobs": "aucun emploi",
        "shares are undefined when every value is zero": "revenu basique nul",
        "basic income per inhabitant is undefined for zero population": "population nulle",
        "no employment by sector": "emploi par secteur non importé",
        "no reference employment by sector": "pas d'emploi de référence par secteur",
        "no consumption data": "consommation des habitants inconnue",
        "no local currency data": "pas de monnaie locale",
        "no units in circulation": "aucune unité en circulation",
        "retention is undefined with zero consumption potential": "potentiel de consommation nul",
        "velocity is undefined when no units are in circulation": "aucune unité en circulation",
        "flow shares are undefined when nothing was spent": "aucune dépense",
        "LM3 is undefined when no income entered the territory": "aucun revenu entré",
    }
)


def flag_label(flag: str | None) -> str | None:
    """Why an indicator has no value, in French (None when it has one)."""
    if flag is None:
        return None
    if flag.startswith("secret cells in sectors "):
        return "cellules secrètes (" + flag.removeprefix("secret cells in sectors ") + ")"
    return FLAG_LABELS.get(flag, "non calculable")
