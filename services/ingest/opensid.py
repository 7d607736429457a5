"""OpenSID's population export, counted in memory: the village's own register becomes the
platform's population counts without retyping, and no personal data ever lands.

OpenSID (the village information system most villages run) exports its population as an XLSX
with one row per person (and, through its OpenDK sync, a zip holding that XLSX and photos). The
columns are those OpenDK's ``app/Imports/SinkronPenduduk.php`` reads: ``nomor_nik``, ``nama``,
``nomor_kk``, ``jenis_kelamin``, ``tanggal_lahir``, ``status_dasar``, ... carrying OpenSID's
code ids (``tweb_penduduk_sex``: 1 laki-laki, 2 perempuan; ``tweb_status_dasar``: 1 hidup).

The bytes are read here, never written: a zip is opened in memory, its XLSX member read (the
photos are never decompressed), the sheet bounded before the reader allocates for it, and only
counts leave this module: living persons per sex and five-year age group (0-4 ... 70-74, 75+)
at the export date. NIK, KK, names, birth dates and addresses are dropped with the rows; an
error names a line and a column, never a cell's value.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg

from services.ingest import service, store
from shared import clock
from shared.errors import PayloadTooLarge, Unprocessable
from shared.reporting_calendar import period_containing
from shared.xlsx_bounds import check_sheet, check_zip_expansion

SEX = {"1": "L", "2": "P"}  # tweb_penduduk_sex
LIVING = "1"  # tweb_status_dasar: HIDUP
AGE_GROUPS = [f"{a}-{a + 4}" for a in range(0, 75, 5)] + ["75+"]
REQUIRED = ("jenis_kelamin", "tanggal_lahir", "status_dasar")
MAX_ROWS = 100_000  # one village's register


@dataclass
class Population:
    """What the register says, counted: nothing about any one person."""
    counts: Counter = field(default_factory=Counter)  # (sex, age group) -> living persons
    persons: int = 0
    living: int = 0
    not_living: int = 0
    unreadable: list[dict] = field(default_factory=list)  # line, column, problem

    def rows(self, region: str, period: str) -> list[dict]:
        """The dataset's rows: every sex and age group, zero included (a zero is a count)."""
        return [{"region": region, "period": period, "jenis_kelamin": sex,
                 "kelompok_umur": group, "jumlah": self.counts[(sex, group)]}
                for sex in ("L", "P") for group in AGE_GROUPS]

    def summary(self) -> dict:
        return {"persons": self.persons, "living": self.living,
                "not_living": self.not_living, "unreadable": self.unreadable[:50]}


def workbook_bytes(raw: bytes, max_decompressed: int) -> bytes:
    """The XLSX itself, or the XLSX member of OpenSID's sync zip (photos left compressed)."""
    archive = io.BytesIO(raw)
    try:
        with zipfile.ZipFile(archive) as z:
            names = z.namelist()
            if "[Content_Types].xml" in names:
                return raw
            members = [n for n in names if n.lower().endswith(".xlsx")]
            if len(members) != 1:
                raise Unprocessable("Arsip harus berisi tepat satu berkas XLSX penduduk dari "
                                    "OpenSID.", code="opensid_no_workbook")
            info = z.getinfo(members[0])
            if info.file_size > max_decompressed:
                raise PayloadTooLarge("Berkas penduduk di dalam arsip terlalu besar.",
                                      code="decompressed_too_large")
            with z.open(info) as member:
                data = member.read(max_decompressed + 1)
    except zipfile.BadZipFile as exc:
        raise Unprocessable("Berkas bukan XLSX atau zip ekspor OpenSID.",
                            code="opensid_not_a_file") from exc
    if len(data) > max_decompressed:
        raise PayloadTooLarge("Berkas penduduk di dalam arsip terlalu besar.",
                              code="decompressed_too_large")
    return data


def count(raw: bytes, on: date, *, max_decompressed: int) -> Population:
    """Living persons per sex and age group on ``on``, from the export's bytes."""
    from python_calamine import CalamineWorkbook

    book = io.BytesIO(workbook_bytes(raw, max_decompressed))
    check_zip_expansion(book, max_decompressed)
    check_sheet(book, max_rows=MAX_ROWS, max_columns=200, max_cells=MAX_ROWS * 60)
    book.seek(0)
    try:
        lines = CalamineWorkbook.from_filelike(book).get_sheet_by_index(0).to_python()
    except Exception as exc:  # noqa: BLE001 - calamine raises its own error types
        raise Unprocessable("Berkas XLSX penduduk tidak dapat dibaca.",
                            code="malformed_xlsx") from exc
    if not lines:
        raise Unprocessable("Lembar penduduk kosong.", code="opensid_empty")
    header = [str(h).strip().lower() for h in lines[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise Unprocessable(f"Kolom OpenSID tidak ada: {', '.join(missing)}. Unggah ekspor "
                            "penduduk OpenSID (format sinkronisasi OpenDK).",
                            code="opensid_columns", details=[{"missing": missing}])
    at = {c: header.index(c) for c in REQUIRED}
    population = Population()
    for line, cells in enumerate(lines[1:], start=2):
        if not any(c not in (None, "") for c in cells):
            continue
        population.persons += 1
        value = {c: cells[i] if i < len(cells) else None for c, i in at.items()}
        if _code(value["status_dasar"]) != LIVING:
            population.not_living += 1
            continue
        sex, born = SEX.get(_code(value["jenis_kelamin"])), _date(value["tanggal_lahir"])
        problem = ("jenis_kelamin", "kode bukan 1 atau 2") if sex is None else (
            ("tanggal_lahir", "bukan tanggal") if born is None or born > on else None)
        if problem:
            population.unreadable.append({"line": line, "column": problem[0],
                                          "problem": problem[1]})
            continue
        population.living += 1
        population.counts[(sex, age_group(born, on))] += 1
    return population


def age_group(born: date, on: date) -> str:
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return AGE_GROUPS[min(age // 5, len(AGE_GROUPS) - 1)]


def _code(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text[:10], pattern).date()
        except ValueError:
            continue
    return None


ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/octet-stream",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


async def population(pool, registry, settings, principal, *, dataset: str, raw: bytes,
                     region: str | None, period: str | None, dry_run: bool,
                     idempotency_key: str | None) -> dict:
    """Count the export and send the counts through the ordinary submission path (dry run,
    receipts, verification, privacy and timeliness apply); the answer carries the summary."""
    await service.dataset_fields(registry, principal, dataset)  # known, and the key may write it
    found = await registry.dataset(dataset)
    if found is None:
        raise Unprocessable(f"Dataset '{dataset}' tidak dapat dibaca sekarang.",
                            code="registry_unavailable")
    today = clock.today_wita()
    period = period or period_containing(found["frequency"], today)
    counted = await asyncio.to_thread(count, raw, today,
                                      max_decompressed=settings.max_decompressed_bytes)
    upload = service.Upload(kind="opensid", rows=counted.rows(region or principal.region_scope,
                                                           period),
                            filename="ekspor-penduduk-opensid")
    if dry_run:
        return {**await service.dry_run(registry, settings, principal, dataset, upload),
                "opensid": counted.summary()}
    accepted = await service.submit(pool, registry, settings, principal, dataset, upload,
                                    idempotency_key=idempotency_key)
    return {**accepted.body, "replayed": accepted.replayed, "opensid": counted.summary()}


async def last_syncs(pool: asyncpg.Pool) -> list[dict]:
    """Each village's last OpenSID submission (the file or the door), newest first per
    publisher."""
    async with pool.acquire() as conn:
        rows = await store.last_syncs(conn, "opensid")
    return [{**dict(r), "id": str(r["id"])} for r in rows]
