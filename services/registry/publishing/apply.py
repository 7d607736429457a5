"""Submissions become master records: validate and authorize each row (personal identifiers
refused), refuse repeated keys, then classify the chunk against the master (records' classify
rules) and write it set-based (records' staged apply). The caller's transaction holds it all."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.registry.access import service as access
from services.registry.conflicts import service as conflicts
from services.registry.datasets import service as datasets
from services.registry.privacy import service as privacy
from services.registry.records import service as records
from services.registry.records.service import Meeting, Plan, ValidRow, plan, validate_row
from services.registry.regions.service import RegionIndex, region_index
from services.registry.settings import SCHEMA
from services.registry.verification.service import screen
from shared import outbox, personal_data
from shared.auth import Principal
from shared.contracts import (
    ImportCounts, RejectedRow, SubmissionChunkProcessedV1, SubmissionChunkV1,
)


class Outcome:
    def __init__(self) -> None:
        self.counts = ImportCounts()
        self.rejected: list[RejectedRow] = []
        self.changed: list[dict] = []
        self.diff: list[dict] = []
        self.held: list[dict] = []  # rows held for the walidata, with their reasons
        self.rows: dict[str, list[int]] = {}  # receipt outcome -> row indexes

    def row_outcomes(self) -> dict[str, list[int]]:
        """What became of each row, for the submission's signed receipt: a row held for the
        walidata is ``held``, not the create or update it would have been."""
        held = sorted({h["index"] for h in self.held})
        rows = {name: [i for i in idxs if i not in held] for name, idxs in self.rows.items()}
        rejected = sorted({r.index for r in self.rejected})
        extra = {"held": held} if held else {}
        extra |= {"rejected": rejected} if rejected else {}
        return {name: idxs for name, idxs in {**rows, **extra}.items() if idxs}

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


def _refusal(dataset: dict | None, publisher: dict | None, slug: str, publisher_id: str
             ) -> tuple[str | None, str, str] | None:
    """Why no row of this chunk may be applied (field, code, message), or None."""
    if dataset is None:
        return None, "dataset_not_found", f"Dataset '{slug}' tidak ada."
    if publisher is None:
        return None, "publisher_not_found", f"Produsen data '{publisher_id}' tidak dikenal."
    if dataset["retracted_at"] is not None:
        return "dataset", "dataset_retracted", datasets.retracted_error(f"Dataset {slug}", dataset).message
    if publisher["kind"] != "walidata" and slug not in publisher["datasets"]:
        return ("dataset", "dataset_not_allowed",
                f"{publisher['name']} tidak berwenang mengisi dataset {slug}.")
    return None


def _valid_rows(rows: list[dict], row_offset: int, dataset: dict, publisher: dict,
                regions: RegionIndex, places: dict[int, dict], locale: str,
                outcome: Outcome) -> list[ValidRow]:
    schema = dataset["schema"]
    valid: list[ValidRow] = []
    for i, raw in enumerate(rows):
        index = row_offset + i
        if personal := personal_data.refusals(raw):  # no NIK/KK/phone in public data
            outcome.reject([RejectedRow(index=index, **places[index], **r) for r in personal])
            continue
        row, errors = validate_row(index, raw, schema=schema,
                                   frequency=dataset["frequency"], regions=regions,
                                   locale=locale)
        if errors:
            outcome.reject([e.model_copy(update=places[index]) for e in errors])
        elif not regions.within(row.region_code, publisher["region_scope"]):
            outcome.reject([_out_of_scope(index, publisher, regions, row.region_code)
                            .model_copy(update=places[index])])
        else:
            valid.append(row)
    return valid


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
    dataset = await datasets.get_dataset_row(conn, dataset_slug)
    publisher = await access.get_publisher(conn, publisher_id)
    refusal = _refusal(dataset, publisher, dataset_slug, publisher_id)
    if refusal is not None:
        field, code, message = refusal
        for i in range(len(rows)):
            place = places[row_offset + i] if code != "dataset_retracted" else {}
            outcome.reject([RejectedRow(index=row_offset + i, **place, field=field, code=code,
                                        message=message)])
        return outcome
    regions = await region_index(conn)
    valid = _valid_rows(rows, row_offset, dataset, publisher, regions, places, locale, outcome)
    valid, duplicates = _refuse_duplicates(valid, places, flagged, regions)
    for refused in duplicates:
        outcome.reject(refused)
    if not valid:
        return outcome
    await records.stage_rows(conn, valid)
    staged = await records.classify_staged(conn, dataset["id"], with_values=dry_run)
    outcome.counts.unchanged += len(valid) - len(staged)  # no repeated keys are left
    if len(valid) != len(staged):  # such rows are counted unchanged; the receipt says so
        seen = {r["idx"] for r in staged}
        outcome.rows["unchanged"] = [v.index for v in valid if v.index not in seen]
    steward = publisher["kind"] == "walidata"
    authoritative = publisher_id in dataset["authoritative"] or steward
    # privacy: what this writer may not see of the current values (a sensitive dataset)
    sight = await privacy.writer_view(conn, dataset_slug, publisher_id, steward)
    dims_of = {v.index: v.dims for v in valid}
    chunk = plan([Meeting.of(r, privacy.hidden_from_writer(sight, {**r, "dims": dims_of[r["idx"]]}))
                  for r in staged], publisher_id=publisher_id, authoritative=authoritative)
    _count(outcome, chunk)
    if dry_run:
        outcome.diff = _diff(staged, valid, places, chunk, sight)
    # verification/: hold what breaks a rule, is an outlier, or awaits the walidata
    chunk.to_apply = await screen(conn, dataset=dataset, publisher_id=publisher_id,
                                  submission_id=submission_id, staged=staged,
                                  to_apply=chunk.to_apply, to_conflict=chunk.to_conflict,
                                  outcome=outcome, places=places, dry_run=dry_run)
    if dry_run:
        return outcome
    await _write(conn, dataset, chunk, outcome, publisher_id, submission_id)
    return outcome


def _diff(staged: list, valid: list[ValidRow], places: dict[int, dict], chunk: Plan,
          sight) -> list[dict]:
    """The dry run's answer: each staged row, what it would do, before (as this writer may
    see it: a hidden value another publisher sent stays hidden) and after."""
    dims_of = {v.index: v.dims for v in valid}
    written = {v.index: {"region_written": v.region_written, "region_as_of": v.region_as_of}
               for v in valid}
    return [{"index": r["idx"], **places[r["idx"]], "region_code": r["region_code"],
             **written[r["idx"]],  # how the region cell resolved, as of the period
             "period": r["period"], "dimensions": dims_of[r["idx"]],
             "change": chunk.changes[r["idx"]],
             "current": privacy.writer_sees(sight, {**r, "dims": dims_of[r["idx"]]},
                                            r["current_vals"]),
             "proposed": r["new_vals"]} for r in staged]


def _count(outcome: Outcome, chunk: Plan) -> None:
    outcome.counts.created += chunk.count("create")
    outcome.counts.updated += chunk.count("update")
    outcome.counts.conflicts += chunk.count("conflict")
    outcome.counts.unchanged += chunk.count("unchanged")
    for name, idxs in chunk.outcomes().items():
        outcome.rows[name] = sorted(outcome.rows.get(name, []) + idxs)


async def _write(conn: asyncpg.Connection, dataset: dict, chunk: Plan, outcome: Outcome,
                 publisher_id: str, submission_id: uuid.UUID | None) -> None:
    outcome.changed = await records.apply_staged(conn, dataset["id"], chunk.to_apply,
                                                 publisher_id, submission_id)
    await conflicts.supersede_conflicts(conn, [r["id"] for r in outcome.changed])
    await conflicts.open_conflicts(conn, dataset["id"], chunk.to_conflict, publisher_id,
                                         submission_id)
    await conflicts.supersede_agreeing(conn, dataset["id"], chunk.agreeing, publisher_id)
    await records.publish_records(conn, dataset["slug"], outcome.changed)


async def process_chunk(conn: asyncpg.Connection, chunk: SubmissionChunkV1) -> Outcome:
    """One chunk of a submission, consumed from JetStream: apply it and report back.

    Applied once per (submission, chunk), whatever event carried it: ingest's reconciler and a
    dead-letter replay re-publish a chunk under a new event id. A duplicate changes nothing and
    sends the first summary again, so ingest hears back even if it asked twice."""
    if not await records.claim_chunk(conn, chunk.submission_id, chunk.chunk):
        summary = await records.chunk_summary(conn, chunk.submission_id, chunk.chunk)
        if summary is not None:
            await outbox.add(conn, SCHEMA, SubmissionChunkProcessedV1.model_validate(summary))
        return Outcome()
    outcome = await apply_rows(conn, dataset_slug=chunk.dataset, publisher_id=chunk.publisher_id,
                               rows=chunk.rows, row_offset=chunk.row_offset,
                               submission_id=chunk.submission_id, locale=chunk.locale,
                               sheet=chunk.sheet)
    processed = SubmissionChunkProcessedV1(
        submission_id=chunk.submission_id, chunk=chunk.chunk, chunks=chunk.chunks,
        counts=outcome.counts, rejected_rows=outcome.rejected,
        outcomes=outcome.row_outcomes())
    await records.save_chunk_summary(conn, chunk.submission_id, chunk.chunk,
                                   processed.model_dump(mode="json"))
    await outbox.add(conn, SCHEMA, processed)
    return outcome


async def dry_run(conn: asyncpg.Connection, principal: Principal, slug: str,
                  rows: list[dict], *, locale: str = "id", sheet: str | None = None) -> Outcome:
    """Validation and diff against the current master values; rolled back by the caller."""
    await datasets.get_dataset(conn, slug)
    return await apply_rows(conn, dataset_slug=slug, publisher_id=principal.publisher_id,
                            rows=rows, dry_run=True, locale=locale, sheet=sheet)
