"""Territory codes: does a list of INSEE commune and département codes cover a commune?

Why a module of its own: eligibility (is the project in the programme's territory?) and
routing (which local accompanist covers it?) ask the same question and must answer it the
same way. A territory list mixes 5-character commune codes ("26281" Romans-sur-Isère,
"2A004" Ajaccio) and département codes ("26", "2A", "974"); a commune is covered by its own
code or by its département's. Larger groupings (EPCI, CDDRA, PNR) are expanded into these
codes by the caller, from reference data, since their perimeters change over time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import IntEnum
from typing import Final

from services.funding.programmes.errors import InvalidTerritoryCodeError

_COMMUNE: Final = re.compile(r"(?:\d{5}|2[AB]\d{3})")
_DEPARTEMENT: Final = re.compile(r"(?:0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97[1-8])")


class TerritoryMatch(IntEnum):
    """How a territory list covers a commune; a higher value is a more specific match."""

    DEPARTEMENT = 1
    COMMUNE = 2


def is_commune_code(code: str) -> bool:
    """True for a well-formed INSEE commune code."""
    return _COMMUNE.fullmatch(code) is not None and is_departement_code(departement_of(code))


def is_departement_code(code: str) -> bool:
    """True for a well-formed département code (metropolitan, Corsica or overseas)."""
    return _DEPARTEMENT.fullmatch(code) is not None


def departement_of(commune_code: str) -> str:
    """The département of a commune: 3 characters overseas ("97411" -> "974"), else 2."""
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]


def validate_territories(codes: Iterable[str]) -> frozenset[str]:
    """The codes as a set, refusing anything that is neither a commune nor a département."""
    result = frozenset(codes)
    invalid = sorted(c for c in result if not (is_commune_code(c) or is_departement_code(c)))
    if invalid:
        raise InvalidTerritoryCodeError(f"invalid territory codes: {invalid}", codes=invalid)
    return result


def match_commune(territories: frozenset[str], commune_code: str) -> TerritoryMatch | None:
    """How ``territories`` cover ``commune_code``, or None when they do not."""
    if not is_commune_code(commune_code):
        raise InvalidTerritoryCodeError(
            f"{commune_code!r} is not an INSEE commune code", codes=[commune_code]
        )
    if commune_code in territories:
        return TerritoryMatch.COMMUNE
    if departement_of(commune_code) in territories:
        return TerritoryMatch.DEPARTEMENT
    return None


def covered(code: str, territories: frozenset[str]) -> bool:
    """True when ``territories`` hold ``code`` itself or, for a commune, its département."""
    return code in territories or (len(code) == 5 and departement_of(code) in territories)
