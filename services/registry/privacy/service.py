"""Privacy-safe publishing: the public form of a sensitive dataset's answers.

The walidata marks a dataset sensitive with a threshold k (``dataset_privacy``). Every public
read then goes through a ``View``: the suppression pattern of ``shared.privacy`` computed over
all the dataset's current unit cells (whatever the request filters), applied to records,
history and ``as_of``, aggregates, the change feed, the bus events search indexes and the
snapshot it rebuilds from. The walidata (and admin) see every real value; a publisher sees
the real values of the records it sent. Nothing is hidden for a dataset that is not sensitive.

History: a version's value is shown only if the record is not hidden now and the value itself
is not below k (an old value of a hidden cell would give it back).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import asyncpg

from services.registry.datasets.service import get_dataset
from services.registry.privacy import store as privacy_store
from shared.auth import Principal
from shared.contracts import DatasetSchemaV1, RecordV1
from shared.privacy import ANY, Cell, Pattern, is_masked, is_small, mask_values, primary_reason, \
    suppress


def _summed(schema: DatasetSchemaV1) -> list[str]:
    """The measures whose totals are published (and so can give a hidden cell away)."""
    return [m.name for m in schema.measures if m.aggregation == "sum"]


class View:
    """One reader's view of one sensitive dataset (the patterns are the same for every
    reader; ``principal`` decides only whose own values are shown)."""

    def __init__(self, settings: dict, schema: DatasetSchemaV1, cells: list[dict]) -> None:
        self.k, self.zero = settings["k"], settings["publish_zero"]
        self.dims = schema.dimension_names
        self.measures = _summed(schema)
        levels = set(schema.levels)
        self.principal: Principal | None = None
        units = [c for c in cells if c["level"] in levels]
        self.roots = {c["path"][0] for c in units if c["path"]}
        self.regions = {r for c in units for r in c["path"]}
        self.patterns: dict[str, Pattern] = {
            m: suppress([Cell(tuple(c["path"]), c["period"], self.key(c)[2],
                              c["vals"].get(m)) for c in units if _num(c["vals"].get(m))],
                        self.k, self.zero)
            for m in self.measures}

    def _for(self, principal: Principal | None) -> "View":
        self.principal = principal
        return self

    def key(self, row: dict) -> tuple:
        dims = row.get("dims", row.get("dimensions")) or {}
        return (row["region_code"], row["period"], tuple(str(dims.get(d, "")) for d in self.dims))

    def owns(self, publisher_id: str | None) -> bool:
        return self.principal is not None and publisher_id is not None and \
            self.principal.publisher_id == publisher_id

    def _small(self, value: Any) -> bool:
        return bool(self.measures) and _num(value) and is_small(value, self.k, self.zero)

    def hidden(self, row: dict, values: dict) -> dict[str, str]:
        """measure -> reason for one record's values (its cell now, or the value itself)."""
        out = {}
        key = self.key(row)
        for m in self.measures:
            reason = self.patterns[m].reason(key)
            if reason is None and self._small(values.get(m)):
                reason = "nol_disembunyikan" if values.get(m) == 0 else primary_reason(self.k)
            if reason:
                out[m] = reason
        return out

    def record_values(self, row: dict, values: dict) -> dict:
        if self.owns(row.get("publisher_id")):
            return values
        return mask_values(values, self.hidden(row, values))

    def total(self, region: str, period: str, pattern: tuple, values: dict) -> dict:
        """A published total (region, period, dimension filter) as the public sees it."""
        out = dict(values)
        for m in self.measures:
            if m not in out or out[m] is None or is_masked(out[m]):
                continue
            hidden = self.patterns[m].hidden
            reason = hidden.get((region, period, pattern))
            if reason is None and region not in self.regions:
                # a region above every path (the province): equal to its roots' totals
                reason = next((hidden[(r, period, pattern)] for r in self.roots
                               if (r, period, pattern) in hidden), None)
            if reason is None and self._small(out[m]):
                reason = primary_reason(self.k)
            if reason:
                out[m] = {"value": None, "suppressed": True, "reason": reason}
        return out


def _num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


CACHE_MAX = 32
_cache: OrderedDict[tuple, View] = OrderedDict()  # patterns by what they depend on


async def view(conn: asyncpg.Connection, slug: str, principal: Principal | None
               ) -> View | None:
    """None when everything is shown: not sensitive, or the reader is the walidata. The
    patterns are computed once per state of the dataset (a few hundred ms for a kabupaten's
    desa x sex x years) and kept for the next reads."""
    if principal is not None and principal.is_steward:
        return None
    found = (await privacy_store.sensitive_by_slug(conn, [slug])).get(slug)
    if found is None:
        return None
    key = (*await privacy_store.cells_state(conn, found["id"]), found["id"], found["k"],
           found["publish_zero"])
    shared = _cache.get(key)
    if shared is None:
        shared = View(found, DatasetSchemaV1.model_validate(found["schema"]),
                      await privacy_store.cells(conn, found["id"]))
        _cache[key] = shared
        while len(_cache) > CACHE_MAX:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    return copy.copy(shared)._for(principal)


# --- what a writer may learn ----------------------------------------------------------------

async def writer_view(conn: asyncpg.Connection, slug: str, publisher_id: str,
                      steward: bool) -> View | None:
    """The view of a publisher sending rows (a submission or its dry run): None when it may
    see every value (not sensitive, or the walidata)."""
    if steward:
        return None
    return await view(conn, slug, Principal(key_id="", publisher_id=publisher_id,
                                            publisher_name="", role="publisher",
                                            region_scope=""))


def hidden_from_writer(v: View | None, row: dict) -> bool:
    """A staged row meets a current value its writer may not see (a hidden cell another
    publisher sent): whether the writer's value equals it must not show either."""
    return v is not None and row.get("record_id") is not None and \
        not v.owns(row.get("current_publisher")) and bool(v.hidden(row, {}))


def writer_sees(v: View | None, row: dict, values: dict | None) -> dict | None:
    """The current values a writer's dry run or conflict shows: masked unless it sent them."""
    if v is None or values is None:
        return values
    return v.record_values({**row, "publisher_id": row.get("current_publisher")}, values)


async def mask_conflicts(conn: asyncpg.Connection, items: list[dict],
                         principal: Principal) -> list[dict]:
    """Each side of a conflict as the reader may see it: a publisher sees the other side's
    value of a hidden cell as hidden (the walidata sees both)."""
    out = []
    for item in items:
        v = await view(conn, item["dataset"], principal)
        if v is None:
            out.append(item)
            continue
        row = {"region_code": item["region_code"], "period": item["period"],
               "dims": item["dimensions"]}
        sides = {side: {**item[side], "values": v.record_values(
            {**row, "publisher_id": item[side]["publisher_id"]}, item[side]["values"])}
            for side in ("current", "proposed")}
        out.append({**item, **sides})
    return out


# --- public reads ---------------------------------------------------------------------------

async def mask_records(conn: asyncpg.Connection, slug: str, items: list[dict],
                       principal: Principal | None) -> list[dict]:
    v = await view(conn, slug, principal)
    if v is None:
        return items
    return [{**r, "values": v.record_values(r, r["values"])} for r in items]


async def mask_record_detail(conn: asyncpg.Connection, out: dict,
                             principal: Principal | None) -> dict:
    """The record, its ``as_of`` value and every history version."""
    v = await view(conn, out["dataset"], principal)
    if v is None:
        return out
    now_hidden = v.hidden(out, {}) if out["status"] == "current" else {}

    def shown(values: dict, publisher_id: str | None) -> dict:
        if v.owns(publisher_id):
            return values
        reasons = {**v.hidden(out, values), **now_hidden}
        return mask_values(values, {m: r for m, r in reasons.items() if m in values})

    return {**out, "values": shown(out["values"], out["publisher_id"]),
            "history": [{**h, "values": shown(h["values"], h["publisher_id"])}
                        for h in out["history"]]}


async def mask_aggregate(conn: asyncpg.Connection, body: dict,
                         principal: Principal | None) -> dict:
    v = await view(conn, body["dataset"], principal)
    if v is None:
        return body
    pattern = tuple(body["filters"].get(d, ANY) for d in v.dims)
    region = body["region"]["code"]
    single = len(body["measures"]) == 1 and body["measures"][0]["name"]
    for p in body["periods"]:
        p["values"] = v.total(region, p["period"], pattern, p["values"])
        for child in p.get("children") or []:
            child["values"] = v.total(child["region"]["code"], p["period"], pattern,
                                      child["values"])
        for own in p.get("regions") or []:
            own["values"] = mask_values(own["values"], v.hidden(
                {"region_code": own["region"]["code"], "period": p["period"],
                 "dims": own.get("dimensions") or {}}, own["values"]))
        for item in [p, *(p.get("children") or []), *(p.get("regions") or [])]:
            if single:
                item["value"] = item["values"].get(single)
    if body.get("period") and body["periods"]:
        body["values"] = body["periods"][0]["values"]
        if single:
            body["value"] = body["values"].get(single)
        for part in ("children", "regions"):
            if part in body:
                body[part] = body["periods"][0].get(part)
    return body


async def mask_changes(conn: asyncpg.Connection, items: list[dict],
                       principal: Principal | None) -> list[dict]:
    """Change feed items (record versions of any dataset)."""
    views: dict[str, View | None] = {}
    out = []
    for item in items:
        slug = item["dataset"]
        if slug not in views:
            views[slug] = await view(conn, slug, principal)
        v = views[slug]
        if v is None or v.owns(item.get("publisher_id")):
            out.append(item)
            continue
        now = v.hidden(item, {}) if item.get("status") == "current" else {}
        reasons = {**v.hidden(item, item["values"]), **now}
        out.append({**item, "values": mask_values(
            item["values"], {m: r for m, r in reasons.items() if m in item["values"]})})
    return out


# --- events for search ----------------------------------------------------------------------

def row_event(slug: str, row: dict, values: dict) -> RecordV1:
    return RecordV1(record_id=row["id"], dataset=slug, region_code=row["region_code"],
                    period=row["period"], dimensions=row["dims"], values=values,
                    version=row["version"], status=row["status"],
                    publisher_id=row["publisher_id"], submission_id=row["submission_id"],
                    changed_at=row["updated_at"], seq=row.get("seq"))


async def public_events(conn: asyncpg.Connection, slug: str, events: list[RecordV1]
                        ) -> list[RecordV1]:
    """The events as the public may see them, plus every other record of the dataset whose
    public form changed since it was last sent (a complement that appeared or went)."""
    v = await view(conn, slug, None)
    if v is None:
        return events
    found = (await privacy_store.sensitive_by_slug(conn, [slug]))[slug]
    cells = {c["id"]: c for c in await privacy_store.cells(conn, found["id"])}
    sent = await privacy_store.published_state(conn, list(cells))
    changed = {e.record_id for e in events}
    states: dict = {}
    out = []
    for e in events:
        reasons = v.hidden({"region_code": e.region_code, "period": e.period,
                            "dims": e.dimensions}, e.values)
        states[e.record_id] = reasons
        out.append(e.model_copy(update={"values": mask_values(e.values, reasons)}))
    for rid, c in cells.items():
        reasons = v.hidden(c, c["vals"])
        if rid not in changed and sent.get(rid, {}) != reasons:
            states[rid] = reasons
            out.append(row_event(slug, c, mask_values(c["vals"], reasons)))
    if states:
        await privacy_store.save_published_state(
            conn, {rid: s for rid, s in states.items() if rid in cells})
    return out


async def mask_snapshot(conn: asyncpg.Connection, items: list[dict]) -> list[dict]:
    """Search's rebuild reads the public form too."""
    return await mask_changes(conn, items, None)


# --- settings ------------------------------------------------------------------------------

DEFAULTS = {"sensitive": False, "k": 5, "publish_zero": True, "updated_by": None,
            "updated_at": None}


async def get_settings(conn: asyncpg.Connection, slug: str) -> dict:
    dataset = await get_dataset(conn, slug, allow_retracted=True)
    found = await privacy_store.get_settings(conn, dataset["id"])
    return {"dataset": slug, **(found or DEFAULTS)}


async def is_sensitive(conn: asyncpg.Connection, slug: str) -> bool:
    """Whether exports of this dataset carry the marker column of hidden cells."""
    return bool((await privacy_store.sensitive_by_slug(conn, [slug])).get(slug))


save_settings = privacy_store.put_settings
hidden_published = privacy_store.hidden_published
forget_published = privacy_store.forget_published
