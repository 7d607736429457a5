"""The highest static rank a record matching every word of a query can have, from the kept
counts (migration 0004): the walk in static rank starts there instead of at the top.

A word's records lie in the periods `facet_counts` holds for its lexemes, and a record's static
rank is bounded by its period (store._RECENT: newer periods above older, current places +0.5),
so no record above the ceiling of its rarest word can match. Without it, a walk for a word
missing from the newest periods ("sekolah" when 400,000 newer `jumlah-penduduk` records
arrived) passes every one of them before it finds its first match.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from services.search.models import Filters, ParsedQuery


def _rank_top(year: str, month: str) -> str:
    """SQL (real): the static rank of a current place's record of `year`, `month` (SQL
    integers): no record of a period of that year up to that month, or before, ranks higher
    (store._CURRENT + store._RECENT, the same numeric arithmetic)."""
    return (f"(0.5 + least(greatest({year} - 1900, 0), 199) / 400.0 "
            f"+ {month} / 10000.0)::real")


def rank_ceiling_sql(q: ParsedQuery, arg: Callable[[Any], str]) -> str:
    """SQL (real): no record matching every word of `q` ranks above it ('Infinity': unknown).
    Per word, the newest year the kept counts hold for its lexemes (month 12), and for the
    last word typed as a prefix the counted terms it begins; no bound from a word with a
    lexeme not counted, nor from a number typed as a prefix. `search.rank_ceiling` (search
    migration 0022), planned once per session: nested in the statement, one subquery per
    word, it was planned with it every time (~0.2 ms a word)."""
    if not q.groups:
        return "'Infinity'::real"
    prefix = q.prefix
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else None
    return (f"(SELECT rank_ceiling({arg([' '.join(g) for g in q.groups])}::text[], "
            f"{arg(prefix)}::text, {arg(end)}::text))")


def period_ceiling_sql(f: Filters) -> str | None:
    """SQL (real): no record under the period filter's upper end ranks above it, or None
    without one. `period_to` keeps the periods before `<period_to>~` ("2014" keeps "2014-12"):
    their year is at most its year and, where it names a month ("2014-03"), their month at
    most that one (periods are validated: a month is 01-12, a quarter or semester has none).
    A walk through older records (browsing 2014 at 1,000,000 records) started at the top and
    passed every newer one first: 850 ms, growing with every year indexed. (Numbers, not
    arguments: a statement that does not use it must not carry an untyped argument.)"""
    if f.period_to is None or not f.period_to[:4].isdigit():
        return None
    month = f.period_to[5:]
    return _rank_top(str(int(f.period_to[:4])),
                     str(int(month) if re.fullmatch(r"[0-9]{2}", month) else 12))
