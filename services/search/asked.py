"""The figure a question asks for: a dataset's measure at one place, for a year and a sex when
named ("berapa jumlah penduduk desa Long Nah 2023", "jumlah penduduk kecamatan Kongbeng").

Search does not sum: it names the figure (dataset, place, period, dimension values) and the
caller asks the registry's aggregates for it, so a kecamatan's or the regency's total is
summed, suppressed and marked (held values, a partial period) the way every other channel
shows it.
"""

from __future__ import annotations

import asyncpg

from services.search import answer_store
from services.search.sql.match import tsquery_sql
from shared.sql import Where
from services.search.models import AskedFigure, ParsedQuery
from services.search.query_text import LEVELS, SEX


def place_lookup(q: ParsedQuery) -> tuple[list[str], list[str], int | None] | None:
    """What the place a query names is looked up by (its typed words, the level words, the
    level typed: `answer_store.place_named`'s arguments); None where no figure is asked (one
    word). The words are as typed, before any typo correction: the opening statement looks
    the place up beside the corrections."""
    if len(q.groups) < 2:
        return None
    return [w for label in q.labels for w in label.split()], list(LEVELS), q.level


async def asked_figure(conn: asyncpg.Connection, q: ParsedQuery,
                       place: dict | None) -> AskedFigure | None:
    """None unless the query names a place and, with its other words (the year and sex set
    aside), a dataset that holds records there. `place`: the one `place_lookup(q)` finds
    (`answer_store.place_named`; the opening statement reads it)."""
    if place is None or place_lookup(q) is None:
        return None
    named = set(place["words"])
    rest = [i for i, label in enumerate(q.labels)
            if not set(label.split()) <= named and label != q.year and label not in SEX]
    if not rest:
        return None
    sql = Where()
    tsq = tsquery_sql(q, sql, only=rest)
    dataset = await answer_store.dataset_measured_at(conn, tsq, sql.args, place["code"])
    if dataset is None:
        return None
    named_values = [(dim, code, label) for dim, labels in dataset["dimension_values"].items()
                    for code, label in labels.items() if q.sex is not None and label == q.sex]
    return AskedFigure(dataset=dataset["slug"], dataset_title=dataset["title"],
                       region_code=place["code"], region_name=place["name"],
                       region_level=place["level"], year=q.year,
                       dimensions={dim: code for dim, code, _label in named_values},
                       dimension_labels=[label for _dim, _code, label in named_values])
