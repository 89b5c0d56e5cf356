"""Income sources, income tax and tourist capacity: the imports' writes, a territory's
figures for a client, and the residential base section of its report."""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.geography import service as geography
from services.diagnostics.incomes import repository
from services.diagnostics.incomes.errors import IncomeSourcesNotFound, OfficialFiguresNotFound
from services.diagnostics.incomes.rules import ircom
from services.diagnostics.incomes.rules.filosofi import FIGURES, LABELS
from services.diagnostics.incomes.rules.layouts import HOUSING, TOURISM
from services.diagnostics.incomes.rules.residential import (
    Stocks,
    from_sums,
    source_line,
    stocks,
)
from services.diagnostics.incomes.rules.sections import section
from services.diagnostics.perimeters import service as perimeters
from services.diagnostics.territories import service as territories
from shared.auth import Principal

DATASETS = ("filosofi", "income_tax", "tourism", "housing")


async def save(session: AsyncSession, rows: Sequence[dict[str, Any]], dataset: str) -> None:
    """Insert or replace validated rows of one dataset (re-importing a vintage is safe)."""
    await repository.upsert(session, rows, repository.TABLES[dataset])


async def geography_year(session: AsyncSession, declared: int | None) -> int | None:
    """The geography a file's codes are read on: the one declared, else the one loaded."""
    if declared is not None:
        return declared
    loaded = await geography.vintage(session)
    return None if loaded is None else loaded.year


async def income_sources(
    session: AsyncSession, principal: Principal, code: str, year: int | None
) -> dict[str, Any]:
    """The territory's Filosofi figures (403 before 404), each with its French label; a
    secret cell is null and listed in ``secret``."""
    territory = await territories.get_readable(session, principal, code)
    found = await repository.latest(session, code, year)
    if found is None:
        when = f" en {year}" if year is not None else ""
        raise IncomeSourcesNotFound(f"aucune donnée Filosofi importée pour {code}{when}")
    figures = [
        {
            "name": name,
            "label": LABELS[name],
            "value": None if getattr(found, name) is None else float(getattr(found, name)),
        }
        for name in FIGURES
    ]
    return {
        "territory": code,
        "name": territory.name,
        "level": territory.level,
        "year": found.year,
        "source": f"Source : {found.source}",
        "figures": figures,
        "secret": [f["name"] for f in figures if f["value"] is None],
    }


async def _communes(session: AsyncSession, code: str, level: str | None, year: int) -> list[str]:
    """The communes a territory's or a perimeter's (``kind:code``) figures are summed from;
    none for a commune (its own line)."""
    if ":" in code:
        kind, own = code.split(":", 1)
        found = await perimeters.perimeter_on(session, kind=kind, code=own, at=date(year, 7, 1))
        return sorted(found["communes"])
    if level == "commune":
        return []
    return await geography.communes_of(session, code)


async def _parts(session: AsyncSession, code: str, level: str | None) -> list[str]:
    """A région's départements, whose own published lines are summed before its communes'."""
    return await territories.children(session, code) if level == "region" else []


async def _stocks(
    session: AsyncSession,
    dataset: str,
    names: Sequence[str],
    code: str,
    communes: Sequence[str],
    *,
    parts: Sequence[str] = (),
    year: int | None = None,
) -> Stocks:
    """The territory's own line, its parts' (all published), or its communes' summed by
    the database in one statement (a région: thousands of communes)."""
    table = repository.TABLES[dataset]
    lines = await repository.latest_lines(session, table, [code, *parts], year)
    if code in lines or (parts and all(p in lines for p in parts)):
        return stocks(names, own=lines.get(code), communes=(), rows=lines, parts=parts)
    if not communes:
        return from_sums(names, None)
    return from_sums(names, await repository.summed(session, table, communes, names, year))


_CACHE: OrderedDict[tuple[object, ...], list[dict[str, Any]]] = OrderedDict()
_CACHE_SIZE = 4096


async def residential_base(
    session: AsyncSession,
    *,
    code: str,
    level: str | None,
    population: int | None,
    year: int,
    version: int | None = None,
) -> list[dict[str, Any]]:
    """The report's residential base (see :func:`_residential_base`), kept per database
    and data ``version`` when one is given: every import bumps the version in the
    transaction that writes, so a kept section never outlives its figures, and a région's
    thousands of communes are summed once per version, not at every read."""
    if version is None:
        return await _residential_base(
            session, code=code, level=level, population=population, year=year
        )
    url = getattr(session.bind, "url", None)
    database = url.render_as_string(hide_password=True) if url is not None else ""
    key = (database, version, code, year, population)
    found = _CACHE.get(key)
    if found is None:
        found = await _residential_base(
            session, code=code, level=level, population=population, year=year
        )
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return copy.deepcopy(found)


async def _residential_base(
    session: AsyncSession, *, code: str, level: str | None, population: int | None, year: int
) -> list[dict[str, Any]]:
    """Filosofi's shares (the territory's own figures only), IRCOM's income tax and
    INSEE's tourist capacity (the territory's own line, its départements', or its
    communes' summed), each with its vintage, source and geography line."""
    communes = await _communes(session, code, level, year)
    parts = await _parts(session, code, level)
    loaded = await geography_year(session, None)
    filosofi = await _stocks(session, "filosofi", list(FIGURES), code, [])
    tax = await _stocks(session, "income_tax", list(ircom.FIGURES), code, communes, parts=parts)
    tourism = await _stocks(session, "tourism", list(TOURISM.variables), code, communes)
    housing = await _stocks(session, "housing", list(HOUSING.variables), code, communes)
    basis = tourism if tourism.basis != "none" else housing
    both = replace(basis, values={**tourism.values, **housing.values})
    housing_line = [line for line in [source_line(housing, loaded)] if line]
    return [
        section("filosofi", filosofi, population=population, geography=loaded),
        section("income_tax", tax, population=population, geography=loaded),
        section(
            "tourism",
            both,
            population=population,
            geography=loaded,
            extra_sources=tuple(housing_line) if basis is tourism else (),
        ),
    ]


async def official_figures(
    session: AsyncSession, principal: Principal, *, code: str, dataset: str, year: int | None
) -> dict[str, Any]:
    """One section (``income_tax`` or ``tourism``) of a territory the client may read
    (403 before 404): its own line, or its communes' summed; 404 when neither exists."""
    territory = await territories.get_readable(session, principal, code)
    communes = await _communes(session, code, territory.level, year or date.today().year)
    parts = await _parts(session, code, territory.level)
    names = list(ircom.FIGURES) if dataset == "income_tax" else list(TOURISM.variables)
    found = await _stocks(session, dataset, names, code, communes, parts=parts, year=year)
    extra: tuple[str, ...] = ()
    if dataset == "tourism":
        housing = await _stocks(session, "housing", list(HOUSING.variables), code, communes)
        found = replace(found, values={**found.values, **housing.values})
        loaded = await geography_year(session, None)
        extra = tuple(line for line in [source_line(housing, loaded)] if line)
    if found.basis == "none":
        when = f" en {year}" if year is not None else ""
        raise OfficialFiguresNotFound(f"aucune donnée importée pour {code} ni ses communes{when}")
    body = section(
        dataset,
        found,
        population=territory.legal_population,
        geography=await geography_year(session, None),
        extra_sources=extra,
    )
    return {"territory": code, "name": territory.name, "level": territory.level, **body}
