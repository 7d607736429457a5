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


async def asked_figure(conn: asyncpg.Connection, q: ParsedQuery) -> AskedFigure | None:
    """None unless the query names a place and, with its other words (the year and sex set
    aside), a dataset that holds records there."""
    if len(q.groups) < 2:
        return None
    typed = [w for label in q.labels for w in label.split()]
    place = await answer_store.place_named(conn, typed, list(LEVELS), q.level)
    if place is None:
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
