"""Small counts, never published as they are: which cells (and totals) a public reader sees
suppressed. Pure functions, no I/O; the registry applies them on every public read.

The published figures of a dataset form one lattice of sums: every unit cell (a desa's value
for one period and one combination of dimension values) and every total the platform
publishes over it: per region up the tree (kecamatan, kabupaten, province), per dimension
summed over (L + P), and per region summed over periods. Each total is one equation
``total = sum of its one-step parts`` along one axis.

* **Primary**: any entry (cell or total) with ``1 <= value < k`` is hidden (``0`` too when
  zero is not published).
* **Complementary**: an equation with exactly one hidden entry would give it back by
  subtraction, so another entry of it is hidden: the smallest part, nonzero first (a total
  only when it has no other part). Repeated until no equation has exactly one.
* **Proof**: then the hidden entries are the unknowns of a linear system (the equations with
  the published entries as constants); an unknown that the system fixes exactly (the unit
  vector is in the row space, found by exact Gaussian elimination) gets one more complement,
  and the loop runs again. What is returned therefore lets no hidden entry be recomputed
  from everything published, by any combination of sums and differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable

ANY = "*"  # "summed over" in an entry key
Key = tuple[str, str, tuple[str, ...]]  # (region, period or ANY, dimension values or ANY)


@dataclass(frozen=True)
class Cell:
    """One unit value: ``path`` is its region's ancestry ending in the region itself."""
    path: tuple[str, ...]
    period: str
    dims: tuple[str, ...]
    value: Any

    @property
    def key(self) -> Key:
        return (self.path[-1], self.period, self.dims)


@dataclass
class Pattern:
    """Hidden entries (cells and totals) with their reason."""
    hidden: dict[Key, str] = field(default_factory=dict)

    def reason(self, key: Key) -> str | None:
        return self.hidden.get(key)


def primary_reason(k: int) -> str:
    return f"kurang_dari_{k}"


COMPLEMENT = "komplementer"
ZERO = "nol_disembunyikan"


def is_small(value: Any, k: int, publish_zero: bool = True) -> bool:
    """Primary rule for one value: 1..k-1 (and 0 when zero is not published)."""
    if value is None or isinstance(value, (bool, str, dict)):
        return False
    if value == 0:
        return not publish_zero
    return 0 < value < k


def _parents(key: Key, parent_of: dict[str, str | None]) -> list[tuple[str, Key]]:
    """(axis, the entry one step more general) for each axis along which ``key`` is a part."""
    region, period, dims = key
    out: list[tuple[str, Key]] = []
    if parent_of.get(region):
        out.append(("region", (parent_of[region], period, dims)))
    if period != ANY:
        out.append(("period", (region, ANY, dims)))
    for i, v in enumerate(dims):
        if v != ANY:
            out.append((f"d{i}", (region, period, dims[:i] + (ANY,) + dims[i + 1:])))
    return out


def _generalisations(cell: Cell) -> Iterable[Key]:
    periods = (cell.period, ANY)
    patterns: list[tuple[str, ...]] = [()]
    for v in cell.dims:
        patterns = [p + (x,) for p in patterns for x in (v, ANY)]
    for region in cell.path:
        for period in periods:
            for dims in patterns:
                yield (region, period, dims)


@dataclass
class Lattice:
    values: dict[Key, Any]
    equations: list[tuple[Key, list[Key]]]  # (total, its parts) along one axis
    of: dict[Key, list[int]]  # entry -> the equations it is in
    leaves: set[Key]


def build_lattice(cells: Iterable[Cell]) -> Lattice:
    cells = [c for c in cells if c.value is not None]
    values: dict[Key, Any] = {}
    parent_of: dict[str, str | None] = {}
    for c in cells:
        for i, region in enumerate(c.path):
            parent_of.setdefault(region, c.path[i - 1] if i else None)
        for key in _generalisations(c):
            values[key] = values.get(key, 0) + c.value
    groups: dict[tuple[str, Key], list[Key]] = {}
    for key in values:
        for axis, parent in _parents(key, parent_of):
            groups.setdefault((axis, parent), []).append(key)
    equations = [(parent, sorted(parts)) for (_, parent), parts in sorted(groups.items())]
    of: dict[Key, list[int]] = {}
    for i, (total, parts) in enumerate(equations):
        for key in (total, *parts):
            of.setdefault(key, []).append(i)
    return Lattice(values, equations, of, {c.key for c in cells})


def _complement(lat: Lattice, hidden: dict[Key, str], eq: int) -> Key | None:
    """The entry of equation ``eq`` to hide next: the smallest visible part (nonzero first),
    else the total."""
    total, parts = lat.equations[eq]
    visible = [p for p in parts if p not in hidden]
    if visible:
        return min(visible, key=lambda p: (lat.values[p] == 0, lat.values[p], p))
    return total if total not in hidden else None


def _close(lat: Lattice, hidden: dict[Key, str], todo: list[int]) -> None:
    """Hide complements until no equation has exactly one hidden entry."""
    while todo:
        eq = todo.pop()
        total, parts = lat.equations[eq]
        if sum(1 for e in (total, *parts) if e in hidden) != 1:
            continue
        pick = _complement(lat, hidden, eq)
        if pick is None:
            continue
        hidden[pick] = COMPLEMENT
        todo.extend(lat.of.get(pick, ()))


def determined(lat: Lattice, hidden: dict[Key, str]) -> list[Key]:
    """Hidden entries that the published figures fix exactly (exact Gaussian elimination over
    the equations, hidden entries as unknowns)."""
    index = {key: i for i, key in enumerate(sorted(hidden))}
    rows: list[dict[int, Fraction]] = []
    for total, parts in lat.equations:
        row: dict[int, Fraction] = {}
        for key, sign in ((total, -1), *((p, 1) for p in parts)):
            if key in index:
                row[index[key]] = row.get(index[key], Fraction(0)) + sign
        row = {c: v for c, v in row.items() if v}
        if row:
            rows.append(row)
    pivots: dict[int, dict[int, Fraction]] = {}
    for row in rows:
        for col, prow in pivots.items():
            if col in row:
                f = row[col]
                for c, v in prow.items():
                    row[c] = row.get(c, Fraction(0)) - f * v
                row = {c: v for c, v in row.items() if v}
        if not row:
            continue
        col = min(row)
        lead = row[col]
        row = {c: v / lead for c, v in row.items()}
        for other in pivots.values():
            if col in other:
                f = other[col]
                for c, v in row.items():
                    other[c] = other.get(c, Fraction(0)) - f * v
                for c in [c for c, v in other.items() if not v]:
                    del other[c]
        pivots[col] = row
    keys = sorted(hidden)
    return [keys[col] for col, row in pivots.items() if len(row) == 1]


def suppress(cells: Iterable[Cell], k: int = 5, publish_zero: bool = True) -> Pattern:
    """The entries a public reader sees hidden: primary, then complements until none can be
    recomputed (see the module's docstring)."""
    lat = build_lattice(cells)
    hidden: dict[Key, str] = {}
    for key, value in lat.values.items():
        if is_small(value, k, publish_zero):
            hidden[key] = ZERO if value == 0 else primary_reason(k)
    _close(lat, hidden, [i for key in hidden for i in lat.of.get(key, ())])
    while found := determined(lat, hidden):
        pick = _nearest_visible(lat, hidden, found[0])
        if pick is None:
            break  # everything around it is hidden already
        hidden[pick] = COMPLEMENT
        _close(lat, hidden, list(lat.of.get(pick, ())))
    return Pattern(hidden)


def _nearest_visible(lat: Lattice, hidden: dict[Key, str], start: Key) -> Key | None:
    """A visible entry to hide for a hidden one the figures still fix: from its own
    equations, else (breadth first) from those of the hidden entries it is tied to."""
    seen, frontier = {start}, [start]
    while frontier:
        nxt = []
        for key in frontier:
            for eq in lat.of.get(key, ()):
                pick = _complement(lat, hidden, eq)
                if pick is not None:
                    return pick
                total, parts = lat.equations[eq]
                nxt += [e for e in (total, *parts) if e not in seen]
                seen.update((total, *parts))
        frontier = nxt
    return None


def masked(value: Any, reason: str) -> dict:
    """The typed form of a hidden value in JSON."""
    return {"value": None, "suppressed": True, "reason": reason}


def is_masked(value: Any) -> bool:
    return isinstance(value, dict) and value.get("suppressed") is True


def mask_values(values: dict[str, Any], reasons: dict[str, str]) -> dict[str, Any]:
    return {m: masked(v, reasons[m]) if m in reasons else v for m, v in values.items()}
