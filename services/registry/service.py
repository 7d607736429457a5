"""Registry use cases: keys, datasets, regions, and turning submissions into master records."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone
from typing import Any

import asyncpg

from services.registry import privacy, store
from services.registry.models import REQUIRED_METADATA
from services.registry.validation import RegionIndex, ValidRow, validate_row
from shared import outbox, personal_data
from shared.auth import Principal, hash_key
from shared.contracts import (
    DatasetsChangedV1, DatasetV1, ImportCounts, RecordsChangedV1, RecordV1, RegionsChangedV1,
    RegionV1, RejectedRow, SubmissionChunkProcessedV1, SubmissionChunkV1,
)
from shared.errors import BadRequest, Conflict, Gone, NotFound, Unauthorized, Unprocessable
from shared.pagination import decode_cursor, encode_cursor

SCHEMA = "registry"
EVENT_RECORDS_MAX = 500  # records per RecordsChangedV1, keeps messages far below 1 MB

# --- API keys -----------------------------------------------------------------------------


def new_raw_key() -> str:
    return "sd_" + secrets.token_urlsafe(32)


async def create_key(conn: asyncpg.Connection, *, publisher_id: str, role: str, label: str = "",
                     expires_at: datetime | None = None, raw: str | None = None
                     ) -> tuple[str, dict]:
    """Returns the raw key (shown once, never stored) and the stored key's metadata."""
    if await store.get_publisher(conn, publisher_id) is None:
        raise NotFound(f"Produsen data '{publisher_id}' tidak ada.", code="publisher_not_found")
    raw = raw or new_raw_key()
    meta = await store.insert_key(conn, id="key_" + secrets.token_hex(6),
                                  publisher_id=publisher_id, role=role, key_hash=hash_key(raw),
                                  label=label, expires_at=expires_at)
    return raw, meta


async def resolve_key(conn: asyncpg.Connection, raw: str) -> Principal:
    row = await store.find_key(conn, hash_key(raw))
    if row is None:
        raise Unauthorized("Kunci API tidak dikenal.", code="invalid_api_key")
    if row["revoked_at"] is not None:
        raise Unauthorized("Kunci API ini sudah dicabut.", code="revoked_api_key")
    if row["expires_at"] is not None and row["expires_at"] <= datetime.now(timezone.utc):
        raise Unauthorized("Kunci API ini sudah kedaluwarsa.", code="expired_api_key")
    datasets = list(row["datasets"]) if row["role"] == "publisher" else ["*"]
    return Principal(key_id=row["key_id"], publisher_id=row["publisher_id"],
                     publisher_name=row["publisher_name"], role=row["role"],
                     region_scope=row["region_scope"], datasets=datasets)


# --- datasets -----------------------------------------------------------------------------


def dataset_event(d: dict) -> DatasetV1:
    schema = d["schema"]
    return DatasetV1(
        slug=d["slug"], title=d["title"], description=d["description"], topic=d["topic"],
        tags=list(d["tags"]), publisher=(d["metadata"] or {}).get("produsen_data"),
        metadata=d["metadata"] or {},
        retracted=d.get("retracted_at") is not None,
        frequency=d["frequency"],
        dimensions=[x["name"] for x in schema.get("dimensions", [])],
        measures=[x["name"] for x in schema.get("measures", [])],
        dimension_values={x["name"]: dict(x.get("values") or {})
                          for x in schema.get("dimensions", [])},
        measure_info={x["name"]: {"label": x.get("label"), "unit": x.get("unit"),
                                  "type": x.get("type")} for x in schema.get("measures", [])},
        version=d["version"], updated_at=d["updated_at"],
    )


def retracted_error(what: str, dataset: dict) -> Gone:
    """410 for anything of a withdrawn dataset, with the walidata's reason."""
    when = dataset["retracted_at"].strftime("%d-%m-%Y")
    return Gone(f"{what} ditarik oleh walidata pada {when}. Alasan: "
                f"{dataset['retraction_reason']}", code="dataset_retracted",
                details=[{"dataset": dataset["slug"], "reason": dataset["retraction_reason"],
                          "retracted_at": dataset["retracted_at"].isoformat()}])


async def get_dataset(conn: asyncpg.Connection, slug: str, *,
                      allow_retracted: bool = False) -> dict:
    dataset = await store.get_dataset(conn, slug)
    if dataset is None:
        known = ", ".join(d["slug"] for d in await store.list_datasets(conn))
        raise NotFound(f"Dataset '{slug}' tidak ada. Dataset yang tersedia: {known}.",
                       code="dataset_not_found")
    if dataset["retracted_at"] is not None and not allow_retracted:
        raise retracted_error(f"Dataset '{slug}'", dataset)
    return dataset


def check_required_metadata(data: dict) -> None:
    """The Satu Data Indonesia keys every dataset carries (422 naming each missing one)."""
    meta = data.get("metadata") or {}
    missing = [f"metadata.{k}" for k in REQUIRED_METADATA
               if not isinstance(meta.get(k), str) or not meta[k].strip()]
    if not data.get("frequency"):
        missing.append("frequency")
    if missing:
        raise Unprocessable(
            f"Metadata wajib belum diisi: {', '.join(missing)}. Setiap dataset Satu Data "
            "menyebut produsen data, walidata, konsep, definisi, satuan, dan frekuensinya.",
            code="metadata_required",
            details=[{"field": f, "code": "missing", "message": f"{f} wajib diisi."}
                     for f in missing])


async def create_dataset(conn: asyncpg.Connection, data: dict) -> dict:
    check_required_metadata(data)
    if await store.get_dataset(conn, data["slug"]):
        raise Conflict(f"Dataset '{data['slug']}' sudah ada.", code="dataset_exists")
    dataset = await store.insert_dataset(conn, data)
    await outbox.add(conn, SCHEMA, DatasetsChangedV1(datasets=[dataset_event(dataset)]))
    return dataset


async def update_dataset(conn: asyncpg.Connection, slug: str, changes: dict) -> dict:
    current = await get_dataset(conn, slug, allow_retracted=True)
    check_required_metadata({**current, **changes})
    dataset = await store.update_dataset(conn, slug, changes)
    await outbox.add(conn, SCHEMA, DatasetsChangedV1(datasets=[dataset_event(dataset)]))
    return dataset


# --- regions ------------------------------------------------------------------------------


async def region_index(conn: asyncpg.Connection) -> RegionIndex:
    return RegionIndex.build(await store.load_regions(conn), await store.load_active_aliases(conn))


async def resolve_cells(conn: asyncpg.Connection, dataset_slug: str | None,
                        values: list[str]) -> dict[str, str | None]:
    dataset = await store.get_dataset(conn, dataset_slug) if dataset_slug else None
    levels = set((dataset or {}).get("schema", {}).get("region_levels") or []) or None
    regions = await region_index(conn)
    return {value: regions.resolve(value, levels)[0] for value in values}


async def region_events(conn: asyncpg.Connection, codes: list[str] | None = None
                        ) -> list[RegionV1]:
    regions = await store.all_regions(conn)
    names = {r["code"]: r["name"] for r in regions}
    aliases = await store.aliases_by_region(conn)
    return [
        RegionV1(code=r["code"], name=r["name"], level=r["level"], parent_code=r["parent_code"],
                 path_codes=list(r["path"]), path_names=[names.get(c, c) for c in r["path"]],
                 aliases=aliases.get(r["code"], []), version=r["version"],
                 valid_until=str(r["valid_until"]) if r["valid_until"] else None)
        for r in regions if codes is None or r["code"] in codes
    ]


async def publish_regions(conn: asyncpg.Connection, codes: list[str] | None = None, *,
                          bump: bool = False) -> None:
    """Publish regions as they are now; ``bump`` first raises their version, for changes
    (an alias approved) that do not touch the region row itself, so readers that keep the
    newest version only do not ignore the event."""
    if bump and codes:
        await store.bump_region_versions(conn, codes)
    events = await region_events(conn, codes)
    for start in range(0, len(events), 200):
        await outbox.add(conn, SCHEMA, RegionsChangedV1(regions=events[start:start + 200]))


# --- submissions -> master records --------------------------------------------------------


def record_event(row: dict, dataset: str) -> RecordV1:
    return RecordV1(
        record_id=row["id"], dataset=dataset, region_code=row["region_code"],
        period=row["period"], dimensions=row["dims"], values=row["vals"], version=row["version"],
        status=row["status"], publisher_id=row["publisher_id"],
        submission_id=row["submission_id"], changed_at=row["updated_at"], seq=row.get("seq"),
    )


class Outcome:
    def __init__(self) -> None:
        self.counts = ImportCounts()
        self.rejected: list[RejectedRow] = []
        self.changed: list[dict] = []
        self.diff: list[dict] = []

    def reject(self, rows: list[RejectedRow]) -> None:
        if rows:
            self.counts.rejected += 1
            self.rejected.extend(rows)


def _out_of_scope(index: int, publisher: dict, regions: RegionIndex, code: str) -> RejectedRow:
    scope = regions.describe(publisher["region_scope"]) if publisher["region_scope"] in \
        regions.regions else publisher["region_scope"]
    return RejectedRow(index=index, field="region", code="region_out_of_scope",
                       message=f"Wilayah {regions.describe(code)} di luar wewenang "
                               f"{publisher['name']}: hanya boleh mengisi untuk {scope} dan "
                               "wilayah di bawahnya.")


def _where(rows: list[dict[str, Any]], row_offset: int, sheet: str | None
           ) -> tuple[list[dict[str, Any]], list[dict], list[list[int]]]:
    """Rows without their metadata, each row's place ({line, sheet}) and the lines that
    ingest found repeating its key. A row without "_line" is a JSON row: its 1-based position."""
    clean, places, duplicates = [], [], []
    for i, raw in enumerate(rows):
        row = dict(raw)
        line = row.pop("_line", None)
        duplicates.append([int(x) for x in row.pop("_duplicate_of", None) or []])
        clean.append(row)
        places.append({"line": int(line) if line else row_offset + i + 1, "sheet": sheet})
    return clean, places, duplicates


def _duplicate(index: int, place: dict, others: list[int], key: str) -> RejectedRow:
    lines = ", ".join(str(n) for n in sorted(others))
    every = "keduanya" if len(others) == 1 else "semuanya"
    return RejectedRow(
        index=index, **place, field=None, code="duplicate_key",
        message=f"Baris {place['line']} dan baris {lines} berisi kunci yang sama ({key}) dalam "
                f"satu kiriman; {every} ditolak. Hapus salah satu atau perbaiki kuncinya.",
        details={"other_lines": sorted(others)})


def _refuse_duplicates(valid: list[ValidRow], places: dict[int, dict],
                       flagged: dict[int, list[int]], regions: RegionIndex
                       ) -> tuple[list[ValidRow], list[list[RejectedRow]]]:
    """Rows sharing a key (region, period, dimensions) are all refused, each naming the
    others' lines; so are rows ingest found repeating a key elsewhere in the submission."""
    groups: dict[tuple, list[ValidRow]] = {}
    for row in valid:
        groups.setdefault((row.region_code, row.period, row.dims_key), []).append(row)
    keep, refused = [], []
    for (region, period, dims), members in groups.items():
        key = f"wilayah {regions.describe(region)}, periode {period}" + (
            f", {dims}" if dims else "")
        for row in members:
            others = {places[m.index]["line"] for m in members if m is not row}
            others |= set(flagged.get(row.index, []))
            if others:
                refused.append([_duplicate(row.index, places[row.index], list(others), key)])
            else:
                keep.append(row)
    return keep, refused


async def apply_rows(conn: asyncpg.Connection, *, dataset_slug: str, publisher_id: str,
                     rows: list[dict[str, Any]], row_offset: int = 0,
                     submission_id: uuid.UUID | None = None, dry_run: bool = False,
                     locale: str = "id", sheet: str | None = None) -> Outcome:
    """Validate, authorize and apply rows; the caller's transaction holds it all.

    With ``dry_run`` nothing is written: the outcome carries the diff instead.
    """
    outcome = Outcome()
    rows, place_list, dup_list = _where(rows, row_offset, sheet)
    places = {row_offset + i: p for i, p in enumerate(place_list)}
    flagged = {row_offset + i: d for i, d in enumerate(dup_list) if d}
    dataset = await store.get_dataset(conn, dataset_slug)
    publisher = await store.get_publisher(conn, publisher_id)
    if dataset is None or publisher is None:
        what = (f"Dataset '{dataset_slug}' tidak ada." if dataset is None
                else f"Produsen data '{publisher_id}' tidak dikenal.")
        code = "dataset_not_found" if dataset is None else "publisher_not_found"
        for i in range(len(rows)):
            outcome.reject([RejectedRow(index=row_offset + i, **places[row_offset + i],
                                        field=None, code=code, message=what)])
        return outcome
    if dataset["retracted_at"] is not None:
        for i in range(len(rows)):
            outcome.reject([RejectedRow(index=row_offset + i, field="dataset",
                                        code="dataset_retracted",
                                        message=retracted_error(f"Dataset {dataset_slug}",
                                                                dataset).message)])
        return outcome
    may_write_all = publisher["kind"] == "walidata"
    if not may_write_all and dataset_slug not in publisher["datasets"]:
        for i in range(len(rows)):
            outcome.reject([RejectedRow(
                index=row_offset + i, **places[row_offset + i], field="dataset",
                code="dataset_not_allowed",
                message=f"{publisher['name']} tidak berwenang mengisi dataset {dataset_slug}.")])
        return outcome

    regions = await region_index(conn)
    valid: list[ValidRow] = []
    for i, raw in enumerate(rows):
        index = row_offset + i
        if personal := personal_data.refusals(raw):  # issue 19: no NIK/KK/phone in public data
            outcome.reject([RejectedRow(index=index, **places[index], **r) for r in personal])
            continue
        row, errors = validate_row(index, raw, schema=dataset["schema"],
                                   frequency=dataset["frequency"], regions=regions,
                                   locale=locale)
        if errors:
            outcome.reject([e.model_copy(update=places[index]) for e in errors])
        elif not regions.within(row.region_code, publisher["region_scope"]):
            outcome.reject([_out_of_scope(index, publisher, regions, row.region_code)
                            .model_copy(update=places[index])])
        else:
            valid.append(row)
    valid, duplicates = _refuse_duplicates(valid, places, flagged, regions)
    for refused in duplicates:
        outcome.reject(refused)
    if not valid:
        return outcome

    await store.stage_rows(conn, valid)
    staged = await store.classify_staged(conn, dataset["id"], with_values=dry_run)
    outcome.counts.unchanged += len(valid) - len(staged)  # no repeated keys are left
    authoritative = publisher_id in dataset["authoritative"] or may_write_all
    dims_of = {v.index: v.dims for v in valid} if dry_run else {}
    to_apply, to_conflict, agreeing = [], [], []
    for row in staged:
        if row["record_id"] is None:
            change = "create"
        elif row["same"]:
            change = "unchanged"
        elif authoritative or row["current_publisher"] == publisher_id:
            change = "update"  # the authority, or a publisher correcting its own value
        else:
            change = "conflict"
        if change == "create":
            to_apply.append(row["idx"])
            outcome.counts.created += 1
        elif change == "update":
            to_apply.append(row["idx"])
            outcome.counts.updated += 1
        elif change == "conflict":
            to_conflict.append(row["idx"])
            outcome.counts.conflicts += 1
        else:
            outcome.counts.unchanged += 1
            if row["current_publisher"] != publisher_id:
                agreeing.append(row["idx"])
        if dry_run:
            outcome.diff.append({
                "index": row["idx"], **places[row["idx"]], "region_code": row["region_code"],
                "period": row["period"],
                "dimensions": dims_of[row["idx"]],
                "change": change, "current": row["current_vals"], "proposed": row["new_vals"]})
    if dry_run:
        return outcome
    outcome.changed = await store.apply_staged(conn, dataset["id"], to_apply, publisher_id,
                                               submission_id)
    await store.supersede_conflicts(conn, [r["id"] for r in outcome.changed])
    await store.open_conflicts(conn, dataset["id"], to_conflict, publisher_id, submission_id)
    await store.supersede_agreeing(conn, dataset["id"], agreeing, publisher_id)
    await publish_records(conn, dataset_slug, outcome.changed)
    return outcome


async def publish_records(conn: asyncpg.Connection, dataset_slug: str, changed: list[dict]
                          ) -> None:
    events = [record_event(r, dataset_slug) for r in changed]
    events = await privacy.public_events(conn, dataset_slug, events)  # issue 19: the public form
    for start in range(0, len(events), EVENT_RECORDS_MAX):
        await outbox.add(conn, SCHEMA, RecordsChangedV1(
            records=events[start:start + EVENT_RECORDS_MAX]))


async def process_chunk(conn: asyncpg.Connection, chunk: SubmissionChunkV1) -> Outcome:
    """One chunk of a submission, consumed from JetStream: apply it and report back.

    Applied once per (submission, chunk), whatever event carried it: ingest's reconciler and a
    dead-letter replay re-publish a chunk under a new event id. A duplicate changes nothing and
    sends the first summary again, so ingest hears back even if it asked twice."""
    if not await store.claim_chunk(conn, chunk.submission_id, chunk.chunk):
        summary = await store.chunk_summary(conn, chunk.submission_id, chunk.chunk)
        if summary is not None:
            await outbox.add(conn, SCHEMA, SubmissionChunkProcessedV1.model_validate(summary))
        return Outcome()
    outcome = await apply_rows(conn, dataset_slug=chunk.dataset, publisher_id=chunk.publisher_id,
                               rows=chunk.rows, row_offset=chunk.row_offset,
                               submission_id=chunk.submission_id, locale=chunk.locale,
                               sheet=chunk.sheet)
    processed = SubmissionChunkProcessedV1(
        submission_id=chunk.submission_id, chunk=chunk.chunk, chunks=chunk.chunks,
        counts=outcome.counts, rejected_rows=outcome.rejected)
    await store.save_chunk_summary(conn, chunk.submission_id, chunk.chunk,
                                   processed.model_dump(mode="json"))
    await outbox.add(conn, SCHEMA, processed)
    return outcome


async def dry_run(conn: asyncpg.Connection, principal: Principal, slug: str,
                  rows: list[dict], *, locale: str = "id", sheet: str | None = None) -> Outcome:
    """Validation and diff against the current master values; rolled back by the caller."""
    await get_dataset(conn, slug)
    return await apply_rows(conn, dataset_slug=slug, publisher_id=principal.publisher_id,
                            rows=rows, dry_run=True, locale=locale, sheet=sheet)


# --- reading records ----------------------------------------------------------------------


def record_public(row: dict) -> dict:
    return {"id": row["id"], "dataset": row["dataset"], "region_code": row["region_code"],
            "period": row["period"], "dimensions": row["dims"], "values": row["vals"],
            "version": row["version"], "status": row["status"],
            "publisher_id": row["publisher_id"], "submission_id": row["submission_id"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}


async def list_records(conn: asyncpg.Connection, slug: str, *, region: str | None,
                       period_from: str | None, period_to: str | None, dims: dict[str, str],
                       cursor: str | None, limit: int) -> tuple[list[dict], str | None]:
    dataset = await get_dataset(conn, slug)
    unknown = set(dims) - {d["name"] for d in dataset["schema"].get("dimensions", [])}
    if unknown:
        raise BadRequest(f"Filter tidak dikenal: {', '.join(sorted(unknown))}.",
                         code="unknown_filter")
    after = decode_cursor(cursor, 3) if cursor else None
    rows = await store.list_records(conn, dataset_id=dataset["id"], region=region,
                                    period_from=period_from, period_to=period_to, dims=dims,
                                    after=after, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last["period"], last["region_code"], last["dims_key"])
    return [record_public(r) for r in rows], next_cursor


async def get_record(conn: asyncpg.Connection, record_id: uuid.UUID,
                     as_of: datetime | None = None) -> dict:
    row = await store.get_record(conn, record_id)
    if row is None:
        raise NotFound("Rekaman tidak ditemukan.", code="record_not_found")
    if row["dataset_retracted_at"] is not None:
        raise retracted_error(f"Data ini (dataset '{row['dataset']}')",
                              {"slug": row["dataset"], "retracted_at": row["dataset_retracted_at"],
                               "retraction_reason": row["dataset_retraction_reason"]})
    history = await store.record_history(conn, record_id)
    out = record_public(row)
    if as_of is not None:
        then = [h for h in history if h["recorded_at"] <= as_of]
        if not then:
            raise NotFound("Rekaman ini belum ada pada tanggal tersebut.",
                           code="record_not_yet_recorded")
        out.update(values=then[-1]["vals"], version=then[-1]["version"],
                   status=then[-1]["status"], publisher_id=then[-1]["publisher_id"],
                   submission_id=then[-1]["submission_id"])
        out["as_of"] = as_of
    out["history"] = [{"version": h["version"], "values": h["vals"], "status": h["status"],
                       "reason": h["reason"],
                       "publisher_id": h["publisher_id"], "submission_id": h["submission_id"],
                       "conflict_id": h["conflict_id"], "recorded_at": h["recorded_at"]}
                      for h in history]
    return out
