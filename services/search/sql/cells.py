"""An empty query's counts under filters, from the records the indexer keeps counted per
facet combination (search.record_cells, migration 0018): exact at any size, where reading the
matches stopped at EXACT_UP_TO + 1 and answered a lower bound ("produksi-padi": 44,275 records,
exact, where it was "Lebih dari 10.000 hasil"). Regions and datasets are counted live, as
beside the kept counts of a word (facet_counts.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import asyncpg

from services.search.models import Counts, Filters
from services.search.sql.facet_counts import kept_counts
from services.search.sql.match import Match, facet_grouping, filters_sql
from services.search.sql.page import FirstPage
from shared.sql import Where

# the cells' records per facet value: one grouping set per facet over the cells (one row per
# facet combination), where a row per cell and facet hashed by (facet, value) cost 0.37 ms
# more for a dataset in a kecamatan (157 cells)
_NAME, _VALUE, _SETS = facet_grouping("d")
FACETS = f"""SELECT g.facet, g.value, g.n FROM (
                SELECT {_NAME} AS facet, {_VALUE} AS value, sum(d.n) AS n
                FROM cells d GROUP BY {_SETS}) g
            WHERE g.value IS NOT NULL"""


def cells_say(f: Filters) -> bool:
    """Whether the cells hold exactly the records under `f`: not for a kind other than record,
    nor a region other than a kecamatan (a village's records are not told apart by the
    cells; a kecamatan's are its cells: the indexer sets a record's kecamatan from its
    region's ancestry)."""
    return f.kind in (None, "record") and (f.region is None or f.region_level == "kecamatan")


def cells_where(f: Filters, sql: Where) -> str:
    """The record_cells (as `d`) that hold the records under `f` (where `cells_say`), as
    SQL."""
    conds = filters_sql(replace(f, kind=None, region=None, region_level=None), sql)
    if f.region is not None:
        conds.append(f"d.kecamatan_code = {sql.param(f.region)}")
    return " AND ".join(["d.n > 0", *conds])


RECORDS = "SELECT coalesce(sum(n), 0) FROM cells"


async def counts(conn: asyncpg.Connection, m: Match, f: Filters, *, values_max: int,
                 first: Callable[[str], FirstPage] | None = None) -> Counts | None:
    """The counts of `m`, an empty query under filters `f`, from the cells the filters keep;
    None where it has words, no filters, or filters the cells cannot say (`cells_say`).
    `first`: the first page to return with them, given the SQL of how many records match."""
    if not m.empty or f == Filters() or not cells_say(f):
        return None

    def kept(sql: Where) -> tuple[str, str, str]:
        return (FACETS, RECORDS,
                f"SELECT d.*, 'record' AS kind FROM record_cells d WHERE {cells_where(f, sql)}")
    return await kept_counts(conn, m, values_max, kept, first(RECORDS) if first else None)
