"""Building a WHERE clause without counting ``$n`` by hand.

    where = Where("r.dataset_id = {}", dataset_id)
    if region:
        where.add("r.region_code = {}", region)
    rows = await conn.fetch(f"SELECT ... {where.sql} LIMIT {where.param(limit)}", *where.args)

Each ``{}`` in a condition becomes the next positional parameter; the same value used twice
in one condition is passed twice (asyncpg needs no more than that).
"""

from __future__ import annotations

from typing import Any


class Where:
    def __init__(self, *first: Any) -> None:
        self.args: list[Any] = []
        self.conditions: list[str] = []
        if first:
            self.add(*first)

    def param(self, value: Any) -> str:
        """A placeholder for ``value`` (for LIMIT, or SQL outside the WHERE clause)."""
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, condition: str, *values: Any) -> "Where":
        self.conditions.append(condition.format(*(self.param(v) for v in values)))
        return self

    @property
    def sql(self) -> str:
        return ("WHERE " + " AND ".join(self.conditions)) if self.conditions else ""


def valid_on(region: str, day: str) -> str:
    """SQL: the region row ``region`` (an alias) is valid on ``day`` (a SQL date expression,
    e.g. ``period_end(r.period)``): from its ``valid_from`` to the day before its
    ``valid_until``, no date meaning always. A region is in a period when it is valid on the
    period's last day."""
    return (f"(({region}.valid_from IS NULL OR {region}.valid_from <= {day}) AND "
            f"({region}.valid_until IS NULL OR {region}.valid_until > {day}))")
