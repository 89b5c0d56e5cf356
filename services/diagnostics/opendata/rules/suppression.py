"""Statistical disclosure control of a published table with its totals.

A table has inner cells (row, column) and margins: a total per row, per column, and the
grand total, each the sum of its cells. The rules:

- **Primary suppression**: a cell is secret when fewer than `MIN_ACCOUNTS` (5) accounts
  make it, or when one account makes more than `DOMINANCE_SHARE` (50 %) of one of its
  figures (a (1, 50 %) dominance rule: "most of the figure"). Margins are tested the same
  way: a month whose whole currency has 3 active accounts publishes no total either.
- **Secondary suppression**: a secret cell must not be recoverable by subtraction from the
  totals, whichever combination of rows and columns one subtracts. Take the bipartite
  graph whose vertices are the rows and columns (the total row and column included) and
  whose edges are the withheld cells: the published totals determine a withheld cell
  exactly when its edge is a *bridge* (no cycle passes through it; otherwise adding and
  subtracting the same amount around the cycle keeps every total). So while a withheld
  cell is a bridge, we withhold the cheapest three more cells closing a rectangle through
  it (row r, column c, another row r', another column c'); each round removes a bridge and
  creates none, so it ends. The cost prefers inner cells with few accounts, then totals.

Structural zeros (a territory with no activity in a month) are not cells: everyone knows
them, so they are published as absent and never chosen to hide another cell.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

MIN_ACCOUNTS: Final = 5
DOMINANCE_SHARE: Final = Fraction(1, 2)
MARGIN_COST: Final = 10**9
"""Withholding a total costs more than any inner cell: a reader loses more with it."""


class _Total:
    """The label of the total row and of the total column."""

    def __repr__(self) -> str:
        return "TOTAL"


TOTAL: Final = _Total()

Position = tuple[Hashable, Hashable]
"""(row, column); ``TOTAL`` as either label names a margin."""


@dataclass(frozen=True, slots=True)
class CellStats:
    """What the rules need to know of a cell: how many accounts make it, and for each of
    its additive figures the largest single account's part and the figure's total (both
    non-negative, e.g. units held, spent, reconverted)."""

    accounts: int
    parts: tuple[tuple[int, int], ...] = ()

    def dominated(self) -> bool:
        """Whether one account makes more than `DOMINANCE_SHARE` of one figure."""
        return any(
            total > 0 and Fraction(top, total) > DOMINANCE_SHARE for top, total in self.parts
        )

    def sensitive(self) -> bool:
        """Primary suppression: too few accounts, or one account dominates."""
        return self.accounts < MIN_ACCOUNTS or self.dominated()


def margins_of(cells: Mapping[Position, CellStats]) -> dict[Position, CellStats]:
    """Row, column and grand totals of ``cells``: accounts summed (an upper bound on the
    distinct accounts, so the same or a stricter test), and per figure the largest
    part and the summed total."""
    margins: dict[Position, CellStats] = {}
    groups: dict[Position, list[CellStats]] = {}
    for (row, column), stats in cells.items():
        keys: tuple[Position, ...] = ((row, TOTAL), (TOTAL, column), (TOTAL, TOTAL))
        for key in keys:
            groups.setdefault(key, []).append(stats)
    for key, members in groups.items():
        width = max(len(m.parts) for m in members)
        parts = tuple(
            (
                max((m.parts[i][0] for m in members if i < len(m.parts)), default=0),
                sum(m.parts[i][1] for m in members if i < len(m.parts)),
            )
            for i in range(width)
        )
        margins[key] = CellStats(accounts=sum(m.accounts for m in members), parts=parts)
    return margins


def protect(cells: Mapping[Position, CellStats]) -> frozenset[Position]:
    """The positions to withhold (inner cells and margins) so that no sensitive cell is
    published, nor recoverable from the published cells and totals."""
    table = {**cells, **margins_of(cells)}
    withheld = {pos for pos, stats in table.items() if stats.sensitive()}
    cost = {
        pos: (MARGIN_COST if TOTAL in pos else 1 + stats.accounts) for pos, stats in table.items()
    }
    rows = sorted({r for r, _ in table}, key=_order)
    columns = sorted({c for _, c in table}, key=_order)
    while (bridge := _first_bridge(withheld)) is not None:
        withheld |= _cheapest_rectangle(bridge, table, withheld, cost, rows, columns)
    return frozenset(withheld)


def _order(label: Hashable) -> tuple[int, str]:
    return (1, "") if label is TOTAL else (0, str(label))


def _cheapest_rectangle(
    cell: Position,
    table: Mapping[Position, CellStats],
    withheld: set[Position],
    cost: Mapping[Position, int],
    rows: list[Hashable],
    columns: list[Hashable],
) -> set[Position]:
    row, column = cell
    best: tuple[int, set[Position]] | None = None
    for other_row in rows:
        if other_row == row or (other_row, column) not in table:
            continue
        for other_column in columns:
            if other_column == column:
                continue
            corners = {(row, other_column), (other_row, column), (other_row, other_column)}
            if not corners <= table.keys():
                continue
            price = sum(cost[p] for p in corners - withheld)
            if best is None or price < best[0]:
                best = (price, corners)
    if best is None:  # unreachable: the margins always close a rectangle
        raise AssertionError(f"no rectangle closes around {cell!r}")
    return best[1]


def _first_bridge(edges: Iterable[Position]) -> Position | None:
    """The first withheld cell (in a fixed order) that lies on no cycle, or None."""
    ordered = sorted(edges, key=lambda p: (_order(p[0]), _order(p[1])))
    for edge in ordered:
        if not _connected_without(ordered, edge):
            return edge
    return None


def _connected_without(edges: list[Position], removed: Position) -> bool:
    """Whether ``removed``'s row and column stay connected through the other edges."""
    neighbours: dict[tuple[str, Hashable], list[tuple[str, Hashable]]] = {}
    for row, column in edges:
        if (row, column) == removed:
            continue
        neighbours.setdefault(("r", row), []).append(("c", column))
        neighbours.setdefault(("c", column), []).append(("r", row))
    start, goal = ("r", removed[0]), ("c", removed[1])
    seen, frontier = {start}, [start]
    while frontier:
        node = frontier.pop()
        if node == goal:
            return True
        for following in neighbours.get(node, ()):
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return False
