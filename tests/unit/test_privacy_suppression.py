"""Small-count suppression: primary and complementary, proved against an independent oracle
(ranks over exact fractions): no hidden cell or total can be recomputed from what is shown."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

from hypothesis import given, settings, strategies as st

from shared.privacy import ANY, Cell, suppress

K = 5


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [r[:] for r in rows if any(r)]
    rank, col = 0, 0
    ncols = len(rows[0]) if rows else 0
    while rank < len(rows) and col < ncols:
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col]), None)
        if pivot is None:
            col += 1
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col]:
                f = rows[i][col] / rows[rank][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank])]
        rank += 1
        col += 1
    return rank


def published_entries(cells: list[Cell]) -> dict:
    """Every figure the platform publishes, derived straight from the cells: each region on
    a path, each period or all, each dimension value or all."""
    regions = {r for c in cells for r in c.path}
    periods = {c.period for c in cells} | {ANY}
    ndims = len(cells[0].dims)
    values = [sorted({c.dims[i] for c in cells}) + [ANY] for i in range(ndims)]
    out = {}
    for region, period, dims in product(regions, periods, product(*values)):
        members = [c for c in cells if region in c.path and period in (ANY, c.period)
                   and all(d in (ANY, v) for d, v in zip(dims, c.dims))]
        if members:
            out[(region, period, tuple(dims))] = members
    return out


def recoverable(cells: list[Cell], hidden: set) -> list:
    """Hidden entries fixed by the shown ones: unknowns are the hidden cells and hidden totals;
    every entry is the sum of its cells. x_i is fixed iff dropping column i lowers the rank."""
    entries = published_entries(cells)
    unknowns = sorted(hidden)
    col = {k: i for i, k in enumerate(unknowns)}
    rows = []
    leaves = {c.key for c in cells}
    for key, members in entries.items():
        if key in leaves:
            continue  # a cell is its own entry, not an equation
        row = [Fraction(0)] * len(unknowns)
        for c in members:
            if c.key in col and c.key != key:
                row[col[c.key]] += 1
        if key in col:
            row[col[key]] -= 1
        rows.append(row)
    fixed = _fixed(rows, len(unknowns))
    return [k for i, k in enumerate(unknowns) if i in fixed]


def _fixed(rows: list[list[Fraction]], n: int) -> set[int]:
    """The unknowns the equations fix: x_i is fixed iff e_i is in the row space (every
    solution agrees on it; the same as dropping column i lowering the rank). In the reduced
    row echelon form that is a pivot row with no other non-zero entry: one exact elimination
    instead of one rank per unknown."""
    rows = [r[:] for r in rows if any(r)]
    pivots: list[int] = []
    rank = 0
    for col in range(n):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        lead = rows[rank][col]
        rows[rank] = [a / lead for a in rows[rank]]
        for i in range(len(rows)):
            if i != rank and rows[i][col]:
                f = rows[i][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank])]
        pivots.append(col)
        rank += 1
    return {col for r, col in enumerate(pivots)
            if all(not v for j, v in enumerate(rows[r]) if j != col)}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-1, 1), min_size=5, max_size=5), max_size=6))
def test_the_fixed_unknowns_are_those_whose_column_carries_rank(matrix):
    """The checker above against its definition (dropping column i lowers the rank)."""
    rows = [[Fraction(v) for v in r] for r in matrix]
    full = _rank(rows)
    assert _fixed(rows, 5) == {i for i in range(5)
                               if _rank([r[:i] + r[i + 1:] for r in rows]) < full}


def test_the_checker_finds_a_small_cell_hidden_alone():
    """Hiding only the 3 leaves it recoverable: its desa's total minus the other sex."""
    cells = table({("01.2001", "2025", "L"): 3, ("01.2001", "2025", "P"): 40,
                   ("01.2002", "2025", "L"): 30, ("01.2002", "2025", "P"): 35})
    small = next(c.key for c in cells if c.value == 3)
    assert recoverable(cells, {small}) == [small]
    assert recoverable(cells, set(suppress(cells, K).hidden)) == []


def table(values: dict[tuple[str, str, str], int]) -> list[Cell]:
    """desa code 'kec.desa' under kabupaten '64.08'."""
    return [Cell(("64.08", "64.08." + desa.split(".")[0], "64.08." + desa), period, (jk,), v)
            for (desa, period, jk), v in values.items()]


def test_a_desa_count_of_3_is_hidden_with_a_complement_in_every_total_it_is_in():
    cells = table({("01.2001", "2025", "L"): 3, ("01.2001", "2025", "P"): 40,
                   ("01.2002", "2025", "L"): 12, ("01.2002", "2025", "P"): 15,
                   ("02.2001", "2025", "L"): 30, ("02.2001", "2025", "P"): 31})
    pattern = suppress(cells, K)
    assert pattern.reason(("64.08.01.2001", "2025", ("L",))) == "kurang_dari_5"
    hidden_cells = {c.key for c in cells if c.key in pattern.hidden}
    assert len(hidden_cells) >= 2
    assert recoverable(cells, set(pattern.hidden)) == []


def test_zero_is_published_unless_configured():
    cells = table({("01.2001", "2025", "L"): 0, ("01.2001", "2025", "P"): 40,
                   ("01.2002", "2025", "L"): 12, ("01.2002", "2025", "P"): 15})
    assert suppress(cells, K).hidden == {}
    assert suppress(cells, K, publish_zero=False).reason(
        ("64.08.01.2001", "2025", ("L",))) == "nol_disembunyikan"


def test_a_lone_cell_hides_its_totals_up_the_tree():
    cells = table({("01.2001", "2025", "L"): 3})
    hidden = suppress(cells, K).hidden
    assert ("64.08", "2025", (ANY,)) in hidden and ("64.08.01", ANY, ("L",)) in hidden


def test_large_counts_are_all_shown():
    cells = table({("01.2001", p, jk): 50 for p in ("2024", "2025") for jk in "LP"})
    assert suppress(cells, K).hidden == {}


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(
    st.tuples(st.sampled_from(["01.2001", "01.2002", "02.2001", "02.2002", "02.2003"]),
              st.sampled_from(["2024", "2025"]), st.sampled_from(["L", "P"])),
    st.one_of(st.integers(0, 6), st.integers(5, 60)), min_size=1, max_size=14))
def test_no_hidden_cell_or_total_can_be_recomputed_from_what_is_published(values):
    cells = table(values)
    pattern = suppress(cells, K)
    for c in cells:
        if 1 <= c.value < K:
            assert c.key in pattern.hidden  # every small cell is hidden
    assert recoverable(cells, set(pattern.hidden)) == []


@settings(max_examples=10, deadline=None)
@given(st.dictionaries(
    st.tuples(st.sampled_from(["01.2001", "01.2002", "02.2001"]), st.sampled_from(["2025"]),
              st.sampled_from(["L", "P"]), st.sampled_from(["anak", "dewasa", "lansia"])),
    st.one_of(st.integers(0, 6), st.integers(5, 60)), min_size=1, max_size=9))
def test_two_dimensions_and_their_crossed_totals_give_nothing_back(values):
    cells = [Cell(("64.08", "64.08." + d.split(".")[0], "64.08." + d), p, (jk, umur), v)
             for (d, p, jk, umur), v in values.items()]
    pattern = suppress(cells, K)
    assert all(c.key in pattern.hidden for c in cells if 1 <= c.value < K)
    assert recoverable(cells, set(pattern.hidden)) == []
