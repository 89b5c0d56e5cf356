"""Contract perimeters: pages of versions, the communes of one on a date (for the
diagnostics of a perimeter, computed by indicators/), and the writes of imports."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.perimeters import repository
from services.diagnostics.perimeters.errors import PerimeterNotFound
from services.diagnostics.perimeters.models import Perimeter
from services.diagnostics.perimeters.rules import PerimeterVersion, perimeter_key
from shared.auth import Principal
from shared.problems import Forbidden


def _version(perimeter: Perimeter) -> dict[str, Any]:
    return {
        "kind": perimeter.kind,
        "code": perimeter.code,
        "name": perimeter.name,
        "valid_from": perimeter.valid_from,
        "valid_to": perimeter.valid_to,
        "synthetic": perimeter.synthetic,
    }


async def list_perimeters(
    session: AsyncSession,
    *,
    after: tuple[str, str, date] | None,
    limit: int,
    kind: str | None,
    at: date | None,
) -> list[dict[str, Any]]:
    """Versions in (kind, code, valid_from) order, with their number of communes."""
    found = await repository.list_page(session, after=after, limit=limit, kind=kind, at=at)
    return [{**_version(p), "communes": n} for p, n in found]


async def _on(
    session: AsyncSession, *, kind: str, code: str, at: date
) -> tuple[Perimeter, list[str]]:
    found = await repository.version_on(session, kind=kind, code=code, at=at)
    if found is None:
        raise PerimeterNotFound(f"no {kind} perimeter {code} on {at}")
    return found


async def perimeter_on(
    session: AsyncSession, *, kind: str, code: str, at: date | None
) -> dict[str, Any]:
    """The version valid on ``at`` (default: today) with its communes."""
    perimeter, communes = await _on(session, kind=kind, code=code, at=at or date.today())
    return {**_version(perimeter), "communes": communes}


async def communes_on(
    session: AsyncSession, principal: Principal, *, kind: str, code: str, at: date
) -> tuple[str, list[str]]:
    """The name and communes of the version valid on ``at``, for a client bound to every
    one of those communes."""
    perimeter, communes = await _on(session, kind=kind, code=code, at=at)
    visible = principal.visible("territories")
    if visible is not None and not set(communes) <= visible:
        raise Forbidden(f"client {principal.client_id!r} is not bound to every commune of {code}")
    return perimeter.name, communes


async def versions_on(session: AsyncSession, at: date) -> dict[str, tuple[str, str, list[str]]]:
    """Every perimeter valid on ``at``, keyed ``kind:code``: (kind, name, communes)."""
    return {
        perimeter_key(p.kind, p.code): (p.kind, p.name, communes)
        for p, communes in await repository.all_on(session, at)
    }


async def save_version(session: AsyncSession, version: PerimeterVersion) -> None:
    """Insert or replace a validated version (closing an open earlier one)."""
    await repository.save_version(
        session,
        kind=version.kind,
        code=version.code,
        name=version.name,
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        communes=version.communes,
        synthetic=version.synthetic,
    )
