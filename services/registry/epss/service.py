"""The regency's EPSS evidence from its own records (Evaluasi Penyelenggaraan Statistik
Sektoral, Peraturan BPS No. 3 Tahun 2022). Only facts are computed, each with the list of
datasets behind it; the maturity level is the walidata's own choice (the self-assessment),
never a score the platform invents. Indicators of the institutional domain (Kelembagaan)
and others the records cannot show are listed as not evidenced."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.registry.audit import service as audit
from services.registry.datasets import service as datasets
from services.registry.datasets.models import REQUIRED_METADATA
from services.registry.epss import store
from services.registry.statistical_metadata import service as statistical_metadata
from services.registry.timeliness import service as timeliness
from services.registry.verification import service as verification
from shared.auth import Principal
from shared.clock import WITA
from shared.errors import Unprocessable
from shared.reporting_calendar import periods_in_year

PRINSIP, KUALITAS, PROSES = ("Prinsip Satu Data Indonesia", "Kualitas Data",
                             "Proses Bisnis Statistik")
INDICATORS = {  # key -> (domain, what the fact counts, in Indonesian)
    "metadata_standar": (PRINSIP, "dataset dengan metadata standar Satu Data Indonesia lengkap "
                                  "(produsen data, walidata, konsep, definisi, satuan, uraian)"),
    "metadata_statistik": (PRINSIP, "dataset dengan metadata statistik BPS (MS-Kegiatan, "
                                    "MS-Variabel/MS-Indikator) lengkap dan terverifikasi"),
    "kode_referensi": (PRINSIP, "dataset yang nilainya berkode wilayah Kemendagri"),
    "terbuka": (PRINSIP, "dataset terbuka lewat API, CKAN dan DCAT"),
    "tepat_waktu": (KUALITAS, "kiriman wilayah per periode yang masuk sebelum tenggat"),
    "kelengkapan": (KUALITAS, "dataset yang setiap periodenya dilaporkan semua wilayah"),
    "koreksi_beralasan": (KUALITAS, "koreksi nilai yang mencatat alasannya"),
    "pemeriksaan": (PROSES, "dataset yang diperiksa sebelum terbit (aturan validasi, "
                            "pemeriksaan pencilan atau verifikasi walidata)"),
    "daftar_data": (PROSES, "butir Daftar Data tahun ini yang terpenuhi tepat waktu"),
}
NOT_EVIDENCED = [
    "Kelembagaan: SDM statistik, anggaran, kerja sama dan forum (Forum Satu Data)",
    "Proses Bisnis Statistik: perencanaan kegiatan statistik (rekomendasi BPS)",
    "Statistik Nasional: pemanfaatan data oleh pengguna dan kepuasan pengguna",
]


async def evidence(conn: asyncpg.Connection, year: int) -> dict:
    """Each evidenced indicator for ``year``: numerator, denominator, share and the list."""
    if not 2000 <= year <= 2100:
        raise Unprocessable("Tahun di luar 2000-2100.", code="year_range")
    every = await datasets.list_datasets(conn)
    start = datetime(year, 1, 1, tzinfo=WITA)
    fixes = await store.corrections(conn, start, datetime(year + 1, 1, 1, tzinfo=WITA))
    rows = {key: [] for key in INDICATORS}
    forms = {i["dataset"]: i for i in (await statistical_metadata.overview(
        conn, every=every))["items"]}
    timely: dict[str, dict] = {}  # per dataset, read once for its rows and the Daftar Data
    for d in every:
        slug, meta = d["slug"], d["metadata"] or {}
        missing = [k for k in REQUIRED_METADATA if not str(meta.get(k) or "").strip()]
        missing += [] if (d["description"] or "").strip() else ["uraian"]
        rows["metadata_standar"].append(_row(slug, not missing, 1, "kurang: " + ", ".join(
            missing) if missing else "lengkap"))
        form = forms.get(slug) or {"complete": False, "missing": ["semua formulir"]}
        rows["metadata_statistik"].append(_row(slug, form["complete"], 1, "lengkap" if form[
            "complete"] else "kurang: " + ", ".join(form["missing"])))
        classified = [f"{dim.name} ({dim.classification})" for dim in d["schema"].dimensions
                      if dim.classification]
        rows["kode_referensi"].append(_row(slug, True, 1, "wilayah: kode Kemendagri; " + (
            "dimensi berkode referensi: " + ", ".join(classified) if classified else
            "tidak ada dimensi lain berklasifikasi referensi")))
        rows["terbuka"].append(_row(slug, True, 1, "API /v1, CKAN package, DCAT"))
        counts = timely[slug] = await _timeliness(conn, slug, d["frequency"], year)
        due = counts["on_time"] + counts["late"] + counts["missing"]
        rows["tepat_waktu"].append(_row(slug, counts["on_time"], due,
                                        f"{counts['on_time']} tepat waktu, {counts['late']} "
                                        f"terlambat, {counts['missing']} belum masuk"))
        rows["kelengkapan"].append(_row(slug, due > 0 and counts["missing"] == 0, 1 if due else 0,
                                        f"{counts['missing']} kiriman belum masuk"))
        made, why = fixes.get(slug, (0, 0))
        rows["koreksi_beralasan"].append(_row(slug, why, made, f"{why} dari {made} koreksi "
                                              "beralasan"))
        policy = await verification.get_policy(conn, slug)
        rules = len((await verification.list_rules(conn, slug))["items"])
        rows["pemeriksaan"].append(_row(
            slug, policy["policy"] == "verifikasi" or rules > 0 or policy["outliers"], 1,
            f"kebijakan {policy['policy']}, {rules} aturan validasi, pemeriksaan pencilan "
            f"{'aktif' if policy['outliers'] else 'mati'}"))
    rows["daftar_data"] = [_row(i["title"], i["status"] == "terpenuhi", 1,
                                f"{i['status']}: {', '.join(i['datasets']) or 'tanpa dataset'}")
                           for i in (await plan_status(conn, year, timely))["items"]]
    return {"year": year, "indicators": [_summary(key, rows[key]) for key in INDICATORS],
            "not_evidenced": NOT_EVIDENCED,
            "note": "Fakta dihitung dari catatan platform; tingkat kematangan dipilih walidata "
                    "pada penilaian mandiri, bukan skor dari platform."}


def _row(slug: str, good: int | bool, of: int, detail: str) -> dict:
    return {"dataset": slug, "numerator": int(good), "denominator": of, "detail": detail}


def _summary(key: str, items: list[dict]) -> dict:
    num = sum(i["numerator"] for i in items)
    den = sum(i["denominator"] for i in items)
    domain, label = INDICATORS[key]
    return {"indicator": key, "domain": domain, "label": label, "numerator": num,
            "denominator": den, "share": round(num / den, 4) if den else None, "items": items}


async def _timeliness(conn: asyncpg.Connection, slug: str, frequency: str, year: int) -> dict:
    """On time, late and missing unit-periods of the year's periods already due."""
    total = {"on_time": 0, "late": 0, "missing": 0}
    for period in periods_in_year(frequency, year):
        for item in (await timeliness.report(conn, dataset=slug, period=period))["items"]:
            if item["is_due"]:
                for k in total:
                    total[k] += item[k]
    return total


async def assessment(conn: asyncpg.Connection, year: int) -> dict:
    return {"year": year, "items": await store.assessments(conn, year)}


async def assess(conn: asyncpg.Connection, steward: Principal, year: int,
                 items: list[dict]) -> dict:
    unknown = [i["indicator"] for i in items if i["indicator"] not in INDICATORS
               and not i["indicator"].startswith("lain:")]
    if unknown:
        raise Unprocessable(f"Indikator tidak dikenal: {', '.join(unknown)} (pakai kunci "
                            "bukti atau awali dengan 'lain:').", code="unknown_indicator")
    for item in items:
        await store.assess(conn, year, item, steward.publisher_id)
    await audit.record(conn, steward, "epss.assess", str(year),
                       {"levels": {i["indicator"]: i["level"] for i in items}})
    return await assessment(conn, year)


def evidence_xlsx(body: dict, assessed: dict) -> bytes:
    """The evidence as a workbook to hand over: a summary, one sheet per indicator with the
    datasets behind it, and the self-assessment."""
    import io

    from openpyxl import Workbook

    from shared.tabular import safe_text

    def cell(value):
        return safe_text(value) if isinstance(value, str) else value

    book = Workbook()
    summary = book.active
    summary.title = "Ringkasan"
    summary.append([f"Bukti EPSS {body['year']} dari catatan Satu Data Kutai Timur"])
    summary.append([body["note"]])
    summary.append(["indikator", "domain", "yang dihitung", "pembilang", "penyebut", "proporsi"])
    for ind in body["indicators"]:
        summary.append([cell(ind["indicator"]), cell(ind["domain"]), cell(ind["label"]),
                        ind["numerator"], ind["denominator"], ind["share"]])
        sheet = book.create_sheet(ind["indicator"][:31])
        sheet.append(["dataset", "pembilang", "penyebut", "keterangan"])
        for item in ind["items"]:
            sheet.append([cell(item["dataset"]), item["numerator"], item["denominator"],
                          cell(item["detail"])])
    summary.append([])
    summary.append(["Tidak dapat dibuktikan dari catatan platform:"])
    for text in body["not_evidenced"]:
        summary.append([cell(text)])
    own = book.create_sheet("Penilaian mandiri")
    own.append(["indikator", "tingkat", "catatan", "bukti", "oleh", "waktu (WITA)"])
    for a in assessed["items"]:
        own.append([cell(a["indicator"]), a["level"], cell(a["note"] or ""),
                    cell(a["evidence"] or ""), cell(a["assessed_by"]),
                    a["assessed_at"].astimezone(WITA).isoformat()])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PLAN_STATES = {"terpenuhi": "every due period sent by every unit, on time",
               "terlambat": "sent late, or still missing after the due date",
               "belum_ada": "no dataset, or nothing sent",
               "belum_jatuh_tempo": "no period of the year due yet"}


async def set_plan(conn: asyncpg.Connection, steward: Principal, year: int,
                   items: list[dict]) -> dict:
    """The year's Daftar Data (agreed in the Forum Satu Data), replaced as a whole."""
    known = {d["slug"] for d in await datasets.list_datasets(conn, retracted=None)}
    unknown = sorted({s for i in items for s in i["datasets"]} - known)
    if unknown:
        raise Unprocessable(f"Dataset tidak ada: {', '.join(unknown)}.", code="dataset_not_found")
    await store.replace_plan(conn, year, items, steward.publisher_id)
    await audit.record(conn, steward, "epss.plan", str(year), {"items": len(items)})
    return await plan_status(conn, year)


async def plan_status(conn: asyncpg.Connection, year: int,
                      timely: dict[str, dict] | None = None) -> dict:
    """Each item of the year's Daftar Data: fulfilled, late or missing, from the timeliness of
    the datasets that fulfil it (``timely``: per dataset, when the caller already read it)."""
    timely = dict(timely or {})
    frequency = {d["slug"]: d["frequency"] for d in await datasets.list_datasets(conn)}
    items = []
    for item in await store.plan(conn, year):
        total = {"on_time": 0, "late": 0, "missing": 0}
        for slug in item["datasets"]:
            if slug in frequency:
                if slug not in timely:
                    timely[slug] = await _timeliness(conn, slug, frequency[slug], year)
                for k, v in timely[slug].items():
                    total[k] += v
        due, sent = sum(total.values()), total["on_time"] + total["late"]
        status = ("belum_ada" if not item["datasets"] or (due and not sent) else
                  "belum_jatuh_tempo" if not due else
                  "terpenuhi" if not total["late"] and not total["missing"] else "terlambat")
        items.append({**item, "datasets": list(item["datasets"]), "status": status, **total})
    return {"year": year, "items": items, "states": PLAN_STATES}
