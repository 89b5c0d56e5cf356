"""Benchmarking: nearest peer territories and percentile positions among all territories.

The seed's "sessions collectives" confront each territory's diagnostic with others;
this module answers "who looks like us?" and "where do we stand?" for a table of
indicator values (territory code → indicator name → value, ``None`` when undefined).

A report is built for every territory of a year, so each question is asked of every
territory: percentiles are ranked once per indicator, and peers are searched for all
territories at once with numpy. The one-territory definitions (:func:`percentile_rank`,
:meth:`IndicatorTable.nearest_peers_reference`) stay the reference the batch results
must reproduce exactly (tests/property/diagnostics).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from types import MappingProxyType

import numpy as np

from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.indicators.rules.distances import near_tie_cutoff

_BLOCK = 64
"""Targets per block of the batch peer search: a block's distances stay in cache.

Built element-wise, never as a matrix product; why:
docs/decisions/diagnostics-exact-vectorised-searches.md."""

_LEAF = 64
"""Most targets per leaf of the pruned search (:meth:`_PeerSpace._leaves`)."""

_PRUNE_FROM = 512
"""Spaces of fewer territories are searched all pairs: the box gains nothing there."""


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


def percentile_ranks(values: Sequence[float]) -> list[float]:
    """:func:`percentile_rank` of every value among ``values``, from one sort.

    Same arithmetic in the same order as the scalar formula, so the floats are identical.
    """
    column = np.asarray(values, dtype=np.float64)
    ordered = np.sort(column)
    below = np.searchsorted(ordered, column, side="left")
    equal_or_below = np.searchsorted(ordered, column, side="right")
    ranks = 100 * (below + (equal_or_below - below) / 2) / len(column)
    return ranks.tolist()  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Peer:
    """A comparable territory and its distance in standardised indicator space."""

    territory: str
    distance: float
    """Euclidean distance between z-scores (dimensionless)."""


class _PeerSpace:
    """Territories defining every indicator of one set, as rows of z-scores sorted by code.

    The peers of every territory are searched once per (space, k) and memoised: a year's
    reports then only look them up. Small spaces compare every target with every
    territory; from :data:`_PRUNE_FROM` territories (the communes of France: 35,000) the
    targets are cut into leaves of nearby points (:meth:`_leaves`), and each leaf is only
    compared with the territories inside a box that provably holds its k nearest peers
    (:meth:`_candidates`): the exact answer, without the O(n²) of all pairs.
    """

    def __init__(self, codes: list[str], vectors: list[tuple[float, ...]]) -> None:
        order = sorted(range(len(codes)), key=codes.__getitem__)
        self.codes = [codes[i] for i in order]
        self.vectors = [vectors[i] for i in order]
        self.position = {code: i for i, code in enumerate(self.codes)}
        self.matrix = np.array(self.vectors, dtype=np.float64).reshape(len(order), -1)
        self.columns = np.ascontiguousarray(self.matrix.T)
        self.found: dict[int, dict[str, tuple[tuple[str, float], ...]]] = {}

    def nearest(self, k: int, targets: Sequence[str]) -> dict[str, tuple[tuple[str, float], ...]]:
        """(code, distance) of the k nearest peers of each target (memoised per k).

        Plain tuples, not Peer objects: the collector does not track tuples of strings
        and floats, so a year's worth of cached peers costs full collections nothing.
        """
        found = self.found.setdefault(k, {})
        rows = [self.position[code] for code in targets if code not in found]
        if not rows:
            return found
        if len(self.codes) < _PRUNE_FROM or k + 1 > _LEAF // 2:
            everyone = np.arange(len(self.codes))
            for start in range(0, len(rows), _BLOCK):
                block_rows = rows[start : start + _BLOCK]
                squared = self._squared(block_rows, everyone)
                found.update(self._rerank(squared, block_rows, k, everyone))
            return found
        for leaf in self._leaves(np.asarray(rows)):
            block_rows = leaf.tolist()
            candidates = self._candidates(leaf, k)
            squared = self._squared(block_rows, candidates)
            found.update(self._rerank(squared, block_rows, k, candidates))
        return found

    def _squared(self, targets: list[int], candidates: np.ndarray) -> np.ndarray:
        """Squared distances (numpy's) from each target to each candidate.

        In place, one indicator at a time: no temporaries bigger than a block (and no
        zero-fill: the first indicator's squares start the sum)."""
        block = np.empty((len(targets), len(candidates)))
        work = np.empty_like(block)
        whole = len(candidates) == len(self.codes)
        for index, column in enumerate(self.columns):
            against = column if whole else column[candidates]
            target = block if index == 0 else work
            np.subtract(column[targets, None], against[None, :], out=target)
            np.multiply(target, target, out=target)
            if index:
                np.add(block, work, out=block)
        return block

    def _leaves(self, rows: np.ndarray) -> list[np.ndarray]:
        """``rows`` cut at the median of their widest indicator, again and again, into
        leaves of at most :data:`_LEAF` nearby territories (a k-d split)."""
        leaves, pending = [], [rows]
        while pending:
            part = pending.pop()
            if len(part) <= _LEAF:
                leaves.append(part)
                continue
            points = self.matrix[part]
            axis = int(np.argmax(points.max(axis=0) - points.min(axis=0)))
            order = np.argsort(points[:, axis], kind="stable")
            half = len(part) // 2
            pending += [part[order[:half]], part[order[half:]]]
        return leaves

    def _candidates(self, leaf: np.ndarray, k: int) -> np.ndarray:
        """Every territory that may be among the k nearest peers of a target of ``leaf``.

        The leaf's own points bound each target's (k+1)-th distance from above (the target
        counts itself); a peer, or a near-tie of the k-th, is no farther than that bound on
        any indicator, so the leaf's bounding box widened by the largest bound (and the
        near-tie slack) holds them all."""
        own = self._squared(leaf.tolist(), leaf)
        if len(leaf) <= k + 1:
            return np.arange(len(self.codes))
        bound = float(near_tie_cutoff(np.partition(own, k, axis=1)[:, k]).max())
        reach = math.sqrt(bound) * (1 + 1e-9) + 1e-150
        points = self.matrix[leaf]
        low, high = points.min(axis=0) - reach, points.max(axis=0) + reach
        inside = np.all((self.matrix >= low) & (self.matrix <= high), axis=1)
        return np.flatnonzero(inside)

    def _rerank(
        self, squared: np.ndarray, targets: list[int], k: int, candidates: np.ndarray
    ) -> dict[str, tuple[tuple[str, float], ...]]:
        # numpy ranks every candidate; only the few within rounding of the (k+1)-th
        # smallest are re-measured with math.dist and ranked by (distance, code) as the
        # reference does, so the result is the reference's to the last bit.
        n = squared.shape[1]
        if k + 1 < n:
            kth = np.partition(squared, k, axis=1)[:, k]
            cutoff = near_tie_cutoff(kth)
            rows, columns = np.nonzero(squared <= cutoff[:, None])
        else:
            rows, columns = np.nonzero(np.ones_like(squared, dtype=bool))
        bounds = np.searchsorted(rows, np.arange(len(targets) + 1)).tolist()
        columns_list = candidates[columns].tolist()
        out: dict[str, tuple[tuple[str, float], ...]] = {}
        vectors, codes, dist = self.vectors, self.codes, math.dist
        for row, target in enumerate(targets):
            origin, code = vectors[target], codes[target]
            picked = columns_list[bounds[row] : bounds[row + 1]]
            # sorted(...)[:k + 1] is heapq.nsmallest(k + 1, ...), cheaper on a handful.
            ranked = sorted([(dist(origin, vectors[c]), codes[c]) for c in picked])
            out[code] = tuple((c, d) for d, c in ranked[: k + 1] if c != code)[:k]
        return out


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
        self._columns: dict[str, dict[str, float]] = {}
        self._z: dict[str, dict[str, float]] = {code: {} for code in self._rows}
        for name in names:
            column = {code: v[name] for code, v in self._rows.items() if name in v}
            self._columns[name] = column
            mean = math.fsum(column.values()) / len(column)
            sd = math.sqrt(math.fsum((x - mean) ** 2 for x in column.values()) / len(column))
            if sd > 0:
                for code, x in column.items():
                    self._z[code][name] = (x - mean) / sd
        self._informative = frozenset(
            name for name in names if any(name in z for z in self._z.values())
        )
        self._percentiles: dict[str, dict[str, float]] | None = None
        self._spaces: dict[tuple[str, ...], _PeerSpace] = {}
        self._groups: dict[tuple[str, ...], dict[tuple[str, ...], list[str]]] = {}

    @property
    def territories(self) -> tuple[str, ...]:
        """Codes of every territory in the table, sorted."""
        return tuple(sorted(self._rows))

    def __contains__(self, territory: object) -> bool:
        return territory in self._rows

    @property
    def indicators(self) -> tuple[str, ...]:
        """Names of every indicator defined for at least one territory, sorted."""
        return tuple(self._columns)

    def _row(self, territory: str) -> dict[str, float]:
        try:
            return self._rows[territory]
        except KeyError:
            raise InvalidInput(f"unknown territory {territory}", territory=territory) from None

    def _all_percentiles(self) -> dict[str, dict[str, float]]:
        # Every report asks for every percentile, so rank each column once for all.
        if self._percentiles is None:
            ranked: dict[str, dict[str, float]] = {code: {} for code in self._rows}
            for name, column in self._columns.items():
                for code, rank in zip(column, percentile_ranks(list(column.values())), strict=True):
                    ranked[code][name] = rank
            self._percentiles = ranked
        return self._percentiles

    def percentile(self, territory: str, indicator: str) -> float:
        """Mid-rank percentile (0–100) of the territory among those defining the indicator."""
        self._row(territory)
        found = self._all_percentiles()[territory].get(indicator)
        if found is None:
            raise UndefinedIndicator(f"{indicator} is undefined for {territory}")
        return found

    def percentiles(self, territory: str) -> dict[str, float]:
        """Percentile of the territory for every indicator it has a value for."""
        self._row(territory)
        ranked = self._all_percentiles()[territory]
        return {name: ranked[name] for name in sorted(ranked)}

    def percentile_map(self, territory: str) -> Mapping[str, float]:
        """:meth:`percentiles` as a read-only view in no particular order (no copy, no sort)."""
        self._row(territory)
        return MappingProxyType(self._all_percentiles()[territory])

    def _wanted(self, k: int, indicators: Sequence[str] | None) -> tuple[str, ...]:
        if k < 0:
            raise InvalidInput("k must not be negative")
        return self.indicators if indicators is None else tuple(indicators)

    def _used_by(self, territory: str, wanted: tuple[str, ...]) -> tuple[str, ...]:
        row = self._row(territory)
        return tuple(name for name in wanted if name in row and name in self._informative)

    def _used(
        self, territory: str, k: int, indicators: Sequence[str] | None
    ) -> tuple[str, ...] | None:
        wanted = self._wanted(k, indicators)
        used = self._used_by(territory, wanted)
        return used if used and k > 0 else None

    def _sharing(self, wanted: tuple[str, ...], used: tuple[str, ...]) -> list[str]:
        """Territories whose peers are searched on exactly ``used`` (when asked ``wanted``).

        They are searched together; a territory missing an indicator has its own, smaller
        set and is searched with its own group, so no search covers territories that will
        never ask for it.
        """
        groups = self._groups.get(wanted)
        if groups is None:
            groups = {}
            for code in self._rows:
                groups.setdefault(self._used_by(code, wanted), []).append(code)
            self._groups[wanted] = groups
        return groups[used]

    def nearest_peers(
        self, territory: str, *, k: int = 5, indicators: Sequence[str] | None = None
    ) -> list[Peer]:
        """The k territories closest to ``territory``: d = √Σ_i (z_i − z'_i)² over indicators.

        Uses the given indicators (default: all) that the target has and that vary across
        territories; candidates must have all of them. Ties are broken by territory code.
        The first call searches the peers of every territory comparable on the same
        indicators (a report is built for each), later calls are look-ups.
        """
        wanted = self._wanted(k, indicators)
        used = self._used_by(territory, wanted)
        if not used or k == 0:
            return []
        space = self._space(used)
        found = space.found.get(k, {}).get(territory)
        if found is None:
            found = space.nearest(k, self._sharing(wanted, used))[territory]
        return [Peer(c, d) for c, d in found]

    def nearest_peers_reference(
        self, territory: str, *, k: int = 5, indicators: Sequence[str] | None = None
    ) -> list[Peer]:
        """:meth:`nearest_peers` for one territory in plain Python: the definition to match."""
        used = self._used(territory, k, indicators)
        if used is None:
            return []
        origin = tuple(self._z[territory][name] for name in used)
        codes = [code for code, z in self._z.items() if all(name in z for name in used)]
        vectors = [tuple(self._z[code][name] for name in used) for code in codes]
        distances = map(math.dist, repeat(origin, len(vectors)), vectors)
        nearest = heapq.nsmallest(k + 1, zip(distances, codes, strict=True))
        return [Peer(code, distance) for distance, code in nearest if code != territory][:k]

    def _space(self, used: tuple[str, ...]) -> _PeerSpace:
        space = self._spaces.get(used)
        if space is None:
            codes = [code for code, z in self._z.items() if all(name in z for name in used)]
            vectors = [tuple(self._z[code][name] for name in used) for code in codes]
            space = _PeerSpace(codes, vectors)
            self._spaces[used] = space
        return space
