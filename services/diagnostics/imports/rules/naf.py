"""The NAF rév. 2 groupings INSEE publishes employment in (A38, A88) and their sphere.

INSEE splits activities into a *sphère présentielle* (goods and services produced on the
spot for the people present: residents and tourists) and a *sphère non présentielle*
(``productive`` here: goods and services mostly sold outside the territory). INSEE's
published list assigns a sphere to each of the 732 NAF sub-classes; employment files
by commune only give A38 or A88 groupings, so each grouping gets the sphere of the
sub-classes that hold most of its jobs (commerce, A38 ``GZ``, is présentiel because retail
and car repair outweigh wholesale; at A88 level, wholesale, division ``46``, is productive).
The list is reference data: an employment import adds the groupings it needs when the
administrator has not imported them, and never changes a sphere already stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

PRESENTIELLE, PRODUCTIVE = "presentielle", "productive"

A38: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "AZ": ("Agriculture, sylviculture et pêche", PRODUCTIVE),
        "BZ": ("Industries extractives", PRODUCTIVE),
        "CA": ("Fabrication de denrées alimentaires, de boissons et de tabac", PRODUCTIVE),
        "CB": ("Fabrication de textiles, industries de l'habillement, du cuir", PRODUCTIVE),
        "CC": ("Travail du bois, industries du papier et imprimerie", PRODUCTIVE),
        "CD": ("Cokéfaction et raffinage", PRODUCTIVE),
        "CE": ("Industrie chimique", PRODUCTIVE),
        "CF": ("Industrie pharmaceutique", PRODUCTIVE),
        "CG": ("Fabrication de produits en caoutchouc, en plastique, minéraux", PRODUCTIVE),
        "CH": ("Métallurgie et fabrication de produits métalliques", PRODUCTIVE),
        "CI": ("Fabrication de produits informatiques, électroniques et optiques", PRODUCTIVE),
        "CJ": ("Fabrication d'équipements électriques", PRODUCTIVE),
        "CK": ("Fabrication de machines et équipements n.c.a.", PRODUCTIVE),
        "CL": ("Fabrication de matériels de transport", PRODUCTIVE),
        "CM": ("Autres industries manufacturières ; réparation et installation", PRODUCTIVE),
        "DZ": ("Production et distribution d'électricité, de gaz, de vapeur", PRODUCTIVE),
        "EZ": ("Eau, assainissement, gestion des déchets et dépollution", PRESENTIELLE),
        "FZ": ("Construction", PRESENTIELLE),
        "GZ": ("Commerce ; réparation d'automobiles et de motocycles", PRESENTIELLE),
        "HZ": ("Transports et entreposage", PRODUCTIVE),
        "IZ": ("Hébergement et restauration", PRESENTIELLE),
        "JA": ("Édition, audiovisuel et diffusion", PRODUCTIVE),
        "JB": ("Télécommunications", PRODUCTIVE),
        "JC": ("Activités informatiques et services d'information", PRODUCTIVE),
        "KZ": ("Activités financières et d'assurance", PRESENTIELLE),
        "LZ": ("Activités immobilières", PRESENTIELLE),
        "MA": ("Activités juridiques, comptables, de gestion, d'architecture", PRODUCTIVE),
        "MB": ("Recherche-développement scientifique", PRODUCTIVE),
        "MC": ("Autres activités spécialisées, scientifiques et techniques", PRODUCTIVE),
        "NZ": ("Activités de services administratifs et de soutien", PRODUCTIVE),
        "OZ": ("Administration publique", PRESENTIELLE),
        "PZ": ("Enseignement", PRESENTIELLE),
        "QA": ("Activités pour la santé humaine", PRESENTIELLE),
        "QB": ("Hébergement médico-social et social, action sociale", PRESENTIELLE),
        "RZ": ("Arts, spectacles et activités récréatives", PRESENTIELLE),
        "SZ": ("Autres activités de services", PRESENTIELLE),
        "TZ": ("Activités des ménages en tant qu'employeurs", PRESENTIELLE),
        "UZ": ("Activités extra-territoriales", PRESENTIELLE),
    }
)
"""A38 code → (INSEE's French label, sphere of most of its jobs)."""

_A88_RANGES: tuple[tuple[int, int, str], ...] = (
    (1, 3, "AZ"), (5, 9, "BZ"), (10, 12, "CA"), (13, 15, "CB"), (16, 18, "CC"),
    (19, 19, "CD"), (20, 20, "CE"), (21, 21, "CF"), (22, 23, "CG"), (24, 25, "CH"),
    (26, 26, "CI"), (27, 27, "CJ"), (28, 28, "CK"), (29, 30, "CL"), (31, 33, "CM"),
    (35, 35, "DZ"), (36, 39, "EZ"), (41, 43, "FZ"), (45, 47, "GZ"), (49, 53, "HZ"),
    (55, 56, "IZ"), (58, 60, "JA"), (61, 61, "JB"), (62, 63, "JC"), (64, 66, "KZ"),
    (68, 68, "LZ"), (69, 71, "MA"), (72, 72, "MB"), (73, 75, "MC"), (77, 82, "NZ"),
    (84, 84, "OZ"), (85, 85, "PZ"), (86, 86, "QA"), (87, 88, "QB"), (90, 93, "RZ"),
    (94, 96, "SZ"), (97, 98, "TZ"), (99, 99, "UZ"),
)  # fmt: skip
_A88_SPHERE = MappingProxyType({"46": PRODUCTIVE})
"""Divisions whose sphere differs from their A38 grouping's: wholesale trade (46)."""
_DIVISION = re.compile(r"\d{2}")


def a38_of_division(division: str) -> str | None:
    """The A38 grouping of an A88 division (``"47"`` → ``"GZ"``), None if not a division."""
    if not _DIVISION.fullmatch(division):
        return None
    number = int(division)
    return next((a38 for low, high, a38 in _A88_RANGES if low <= number <= high), None)


def reference_sector(code: str) -> dict[str, str] | None:
    """The sectors-table row of an A38 grouping or an A88 division, None if neither."""
    if code in A38:
        label, sphere = A38[code]
        return {"code": code, "label": label, "sphere": sphere}
    parent = a38_of_division(code)
    if parent is None:
        return None
    label, sphere = A38[parent]
    return {
        "code": code,
        "label": f"Division {code} de la NAF ({label})",
        "sphere": _A88_SPHERE.get(code, sphere),
    }
