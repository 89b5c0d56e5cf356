"""Benchmarking: nearest peer territories and percentile positions among all territories.

The seed's "sessions collectives" confront each territory's diagnostic with others;
this module answers "who looks like us?" and "where do we stand?" for a table of
indicator values (territory code → indicator name → value, ``None`` when undefined).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

from services.diagnostics.domain.errors import InvalidInput, UndefinedIndicator


def percentile_rank(value: float, population: Sequence[float]) -> float:
    """Mid-rank percentile P = 100 · (b + e/2) / n ∈ [0, 100] (percent).

    b values of ``population`` strictly below ``value``, e equal to it, n in total (the
    territory itself belongs to the population, so a median territory scores 50).
    """
    return _sorted_percentile(value, sorted(population))


def _sorted_percentile(value: float, ordered: Sequence[float]) -> float:
    if not ordered:
        raise UndefinedIndicator("a percentile needs at least one value")
    below, equal_or_below = bisect_left(ordered, value), bisect_right(ordered, value)
    return 100 * (below + (equal_or_below - below) / 2) / len(ordered)


@dataclass(frozen=True, slots=True)
class Peer:
    """A comparable territory and its distance in standardised indicator space."""

    territory: str
    distance: float
    """Euclidean distance between z-scores (dimensionless)."""


class IndicatorTable:
    """Indicator values of many territories, indexed for percentiles and peer search.

    Each indicator is standardised over the territories where it is defined:
    z = (x − mean) / sd, with the population standard deviation; an indicator with
    sd = 0 carries no information and is left out of distances.
    """

    def __init__(self, rows: Mapping[str, Mapping[str, float | None]]) -> None:
        self._rows: dict[str, dict[str, float]] = {}
        for code, values in rows.items():
            defined: dict[str, float] = {}
            for name, value in values.items():
                if value is None:
                    continue
                if not math.isfinite(value):
                    raise InvalidInput(f"{name} of {code} is not a finite number")
                defined[name] = float(value)
            self._rows[code] = defined
        names = sorted({name for values in self._rows.values() for name in values})
        self._sorted: dict[str, list[float]] = {}
        self._z: dict[str, dict[str, float]] = {code: {} for code in self._rows}
        for name in names:
            column = {code: v[name] for code, v in self._rows.items() if name in v}
            self._sorted[name] = sorted(column.values())
            mean = math.fsum(column.values()) / len(column)
            sd = math.sqrt(math.fsum((x - mean) ** 2 for x in column.values()) / len(column))
            if sd > 0:
                for code, x in column.items():
                    self._z[code][name] = (x - mean) / sd
        self._vector_cache: dict[tuple[str, ...], tuple[list[str], list[tuple[float, ...]]]] = {}
        self._informative = frozenset(
            name for name in names if any(name in z for z in self._z.values())
        )

    @property
    def territories(self) -> tuple[str, ...]:
        """Codes of every territory in the table, sorted."""
        return tuple(sorted(self._rows))

    def __contains__(self, territory: object) -> bool:
        return territory in self._rows

    @property
    def indicators(self) -> tuple[str, ...]:
        """Names of every indicator defined for at least one territory, sorted."""
        return tuple(self._sorted)

    def _row(self, territory: str) -> dict[str, float]:
        try:
            return self._rows[territory]
        except KeyError:
            raise InvalidInput(f"unknown territory {territory}", territory=territory) from None

    def percentile(self, territory: str, indicator: str) -> float:
        """Mid-rank percentile (0–100) of the territory among those defining the indicator."""
        row = self._row(territory)
        if indicator not in row:
            raise UndefinedIndicator(f"{indicator} is undefined for {territory}")
        return _sorted_percentile(row[indicator], self._sorted[indicator])

    def percentiles(self, territory: str) -> dict[str, float]:
        """Percentile of the territory for every indicator it has a value for."""
        return {name: self.percentile(territory, name) for name in sorted(self._row(territory))}

    def nearest_peers(
        self, territory: str, *, k: int = 5, indicators: Sequence[str] | None = None
    ) -> list[Peer]:
        """The k territories closest to ``territory``: d = √Σ_i (z_i − z'_i)² over indicators.

        Uses the given indicators (default: all) that the target has and that vary across
        territories; candidates must have all of them. Ties are broken by territory code.
        """
        if k < 0:
            raise InvalidInput("k must not be negative")
        target = self._row(territory)
        if k == 0:
            return []
        wanted = self.indicators if indicators is None else tuple(indicators)
        used = [name for name in wanted if name in target and name in self._informative]
        if not used:
            return []
        origin = tuple(self._z[territory][name] for name in used)
        codes, vectors = self._vectors(tuple(used))
        distances = map(math.dist, repeat(origin, len(vectors)), vectors)
        nearest = heapq.nsmallest(k + 1, zip(distances, codes, strict=True))
        return [Peer(code, distance) for distance, code in nearest if code != territory][:k]

    def _vectors(self, used: tuple[str, ...]) -> tuple[list[str], list[tuple[float, ...]]]:
        """Codes and z-vectors of territories defining every indicator of ``used`` (memoised)."""
        cached = self._vector_cache.get(used)
        if cached is None:
            complete = [code for code, z in self._z.items() if all(name in z for name in used)]
            cached = (complete, [tuple(self._z[code][name] for name in used) for code in complete])
            self._vector_cache[used] = cached
        return cached
