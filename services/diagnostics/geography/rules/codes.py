"""How official codes become territory codes, and the kinds of rows the COG mixes.

INSEE codes are unique only within a level: the région Auvergne-Rhône-Alpes is ``84`` and
so is the département of Vaucluse; a zone d'emploi 2020 and one of 2010 share the same
four-digit shape. Territory codes must be unique across levels, so:

| level | territory code | example |
|---|---|---|
| commune | INSEE COG code (COM only) | ``01283`` (Oyonnax) |
| département | INSEE code | ``01``, ``2A``, ``971`` |
| EPCI | SIREN | ``200042935`` |
| région | ``R`` + INSEE code | ``R84`` |
| zone d'emploi 2020 | ``ZE`` + code | ``ZE8405`` |
| zone d'emploi 2010 | ``ZF`` + code | ``ZF8201`` |

Communes déléguées (COMD), associées (COMA), arrondissements municipaux (ARM) and secteurs
électoraux (SRM) are rows of the same files with codes that can repeat a commune's code:
the key of a row of the COG is (type, code), and only COM rows become territories, so an
arrondissement's population is never added to its commune's.
"""

from __future__ import annotations

COMMUNE_TYPES = ("COM", "COMD", "COMA", "ARM", "SRM")
"""COM commune, COMD commune déléguée, COMA commune associée, ARM arrondissement municipal,
SRM secteur électoral (Paris, Lyon, Marseille)."""

LEVELS = ("region", "departement", "zone_emploi", "epci", "commune")


def region_code(insee: str) -> str:
    """Territory code of a région: ``R`` + its INSEE code (``84`` → ``R84``)."""
    return f"R{insee}"


def zone_emploi_code(insee: str, zoning: int) -> str:
    """Territory code of a zone d'emploi of the 2020 (``ZE``) or 2010 (``ZF``) zoning."""
    if zoning == 2020:
        return f"ZE{insee}"
    if zoning == 2010:
        return f"ZF{insee}"
    raise ValueError(f"unknown zoning {zoning}: 2020 or 2010")
