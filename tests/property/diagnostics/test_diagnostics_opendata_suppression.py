"""Open-data suppression, checked against linear algebra rather than the bridge argument
the rule uses: whatever the table, every withheld cell stays undetermined by the published
cells and the published row, column and grand totals; and no sensitive cell is published."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.opendata.rules.suppression import (
    TOTAL,
    CellStats,
    Position,
    margins_of,
    protect,
)


@st.composite
def tables(draw: st.DrawFn) -> dict[Position, CellStats]:
    rows = draw(st.integers(1, 6))
    columns = draw(st.integers(1, 5))
    cells: dict[Position, CellStats] = {}
    for r in range(rows):
        for c in range(columns):
            if draw(st.integers(0, 9)) == 0:
                continue  # a structural zero: no activity there
            accounts = draw(st.integers(1, 14))
            total = draw(st.integers(0, 1000))
            top = draw(st.integers(0, total)) if accounts > 1 else total
            cells[(f"t{r}", f"m{c}")] = CellStats(accounts=accounts, parts=((top, total),))
    return cells


def _rank(rows: list[list[Fraction]]) -> int:
    """Rank by exact Gaussian elimination."""
    matrix = [row[:] for row in rows]
    rank, width = 0, len(matrix[0]) if matrix else 0
    for column in range(width):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][column] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for i in range(len(matrix)):
            if i != rank and matrix[i][column] != 0:
                factor = matrix[i][column] / matrix[rank][column]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        rank += 1
    return rank


def determined(table: Mapping[Position, object], withheld: frozenset[Position]) -> set[Position]:
    """The withheld positions whose value the totals' equations fix, whatever the values:
    x_k is fixed iff e_k lies in the row space of the equations restricted to unknowns."""
    unknowns = sorted(withheld, key=repr)
    index = {p: i for i, p in enumerate(unknowns)}
    equations: list[list[Fraction]] = []
    rows: set[Hashable] = {r for r, _ in table if r is not TOTAL}
    columns: set[Hashable] = {c for _, c in table if c is not TOTAL}
    for line in [*((r, None) for r in rows | {TOTAL}), *((None, c) for c in columns | {TOTAL})]:
        coefficients = [Fraction(0)] * len(unknowns)
        members = (
            [(line[0], c) for c in columns] if line[1] is None else [(r, line[1]) for r in rows]
        )
        total = (line[0], TOTAL) if line[1] is None else (TOTAL, line[1])
        for p, sign in [*((m, 1) for m in members if m in table), (total, -1)]:
            if p in index:
                coefficients[index[p]] += sign
        equations.append(coefficients)
    if not unknowns:
        return set()
    base = _rank(equations)
    fixed = set()
    for p, i in index.items():
        unit = [Fraction(int(j == i)) for j in range(len(unknowns))]
        if _rank([*equations, unit]) == base:
            fixed.add(p)
    return fixed


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_withheld_cell_is_recoverable_from_the_totals(cells: dict[Position, CellStats]) -> None:
    withheld = protect(cells)
    table = {**cells, **margins_of(cells)}
    assert withheld <= table.keys()
    assert determined(table, withheld) == set()


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_sensitive_cell_or_total_is_published(cells: dict[Position, CellStats]) -> None:
    withheld = protect(cells)
    for position, stats in {**cells, **margins_of(cells)}.items():
        if stats.accounts < 5 or any(total and top * 2 > total for top, total in stats.parts):
            assert position in withheld, position


def test_the_rules_in_plain_figures() -> None:
    assert CellStats(accounts=4, parts=((10, 100),)).sensitive()
    assert not CellStats(accounts=5, parts=((50, 100),)).sensitive()  # half is not "most"
    assert CellStats(accounts=40, parts=((51, 100),)).sensitive()
    assert not CellStats(accounts=5).sensitive()


def test_one_small_territory_among_large_ones_hides_a_partner_not_everything() -> None:
    big = CellStats(accounts=50, parts=((10, 1000),))
    cells = {("a", "m"): CellStats(accounts=2), ("b", "m"): big, ("c", "m"): big}
    withheld = protect(cells)
    assert ("a", "m") in withheld
    assert withheld & {("b", "m"), ("c", "m")}, "a partner cell hides the small one"
    assert (TOTAL, "m") not in withheld, "the month's total stays published"
    assert determined({**cells, **margins_of(cells)}, withheld) == set()


def test_a_check_that_can_fail_finds_a_lone_withheld_cell() -> None:
    cells = {("a", "m"): CellStats(accounts=2), ("b", "m"): CellStats(accounts=9)}
    table = {**cells, **margins_of(cells)}
    assert determined(table, frozenset({("a", "m")})) == {("a", "m")}
