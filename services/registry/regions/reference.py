"""Reference data: the Kemendagri region tree and alias files (BPS codes, spellings).

Aliases come from outside (the statistics agency's crosswalk, operators' CSV files) and can be
wrong: each import is recorded with its source so an operator can review it, and an alias whose
name contradicts the region it points to is stored as ``refused`` with the reason, never used.
"""

from __future__ import annotations

import csv
import difflib
from pathlib import Path
from typing import Iterable

import asyncpg

from services.registry.regions import service as regions_service  # publish_regions
from services.registry.regions import store
from services.registry.regions.index import normalize_code, normalize_name

DATA_DIR = Path(__file__).resolve().parents[3] / "data"
WILAYAH_CSV = DATA_DIR / "wilayah_6408_kutai_timur.csv"
BPS_CSV = DATA_DIR / "bps_6404_crosswalk.csv"
NAME_AGREEMENT = 0.7


def region_rows(lines: Iterable[dict]) -> list[dict]:
    rows = []
    for r in lines:
        code = r["code"].strip()
        parts = code.split(".")
        path = [".".join(parts[:i]) for i in range(2, len(parts) + 1)]
        rows.append({"code": code, "name": r["name"].strip(), "level": r["level"].strip(),
                     "parent_code": r["parent_code"].strip() if len(parts) > 2 else None,
                     "path": path, "valid_from": None})
    return rows


def names_agree(a: str, b: str) -> float:
    x, y = normalize_name(a).replace(" ", ""), normalize_name(b).replace(" ", "")
    return difflib.SequenceMatcher(None, x, y).ratio()


async def load_regions(conn: asyncpg.Connection, path: Path = WILAYAH_CSV) -> dict:
    """Add the regions of the reference file not yet known; a known region is never changed
    (the walidata's renames and moves stand). Returns the codes added and the codes whose
    stored name, level or parent differ from the file (for the operator to review)."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = region_rows(csv.DictReader(f))
    return {"added": await store.insert_missing_regions(conn, rows),
            "differing": await store.differing_regions(conn, rows)}


async def import_aliases(conn: asyncpg.Connection, rows: Iterable[dict], source: str,
                         status: str = "active") -> dict:
    """Rows: ``code`` (the alias: a BPS code or old code, may be empty), ``name`` (the spelling
    used there), ``kemendagri_code`` (the region it means). Returns counts and refusals."""
    regions = {r.code: r for r in await store.load_regions(conn)}
    to_add, refused = [], []
    for i, row in enumerate(rows, start=1):
        target = normalize_code(row.get("kemendagri_code", ""))
        alias_code = normalize_code(row.get("code", "") or "")
        name = (row.get("name") or "").strip()
        region = regions.get(target)
        if region is None:
            refused.append({"line": i, "alias": alias_code or name,
                            "reason": f"kode Kemendagri '{target}' tidak ada"})
            continue
        agreement = names_agree(name, region.name) if name else 1.0
        verdict = status
        note = row.get("note") or None
        if agreement < NAME_AGREEMENT:
            verdict = "refused"
            note = (f"nama '{name}' bertentangan dengan {region.code} {region.name} "
                    f"(kemiripan {agreement:.2f})")
            refused.append({"line": i, "alias": alias_code or name, "reason": note})
        if alias_code:
            to_add.append({"region_code": target, "kind": "bps_code", "alias": alias_code,
                           "alias_norm": alias_code, "source": source, "status": verdict,
                           "note": note})
        if name and normalize_name(name) != normalize_name(region.name):
            to_add.append({"region_code": target, "kind": "spelling", "alias": name,
                           "alias_norm": normalize_name(name), "source": source,
                           "status": verdict, "note": note})
    inserted = await store.add_aliases(conn, to_add)
    active = sorted({a["region_code"] for a in inserted if a["status"] == "active"})
    if active:  # pending and refused aliases are not used, so nothing changed for readers
        await regions_service.publish_regions(conn, active)
    return {"inserted": len(inserted), "refused": refused, "items": inserted}


async def load_bps_crosswalk(conn: asyncpg.Connection, path: Path = BPS_CSV) -> dict:
    with path.open(newline="", encoding="utf-8") as f:
        rows = [{"code": r["bps_code"], "name": r["bps_name"],
                 "kemendagri_code": r["kemendagri_code"], "note": r["note"]}
                for r in csv.DictReader(f)]
    return await import_aliases(conn, rows, source="BPS 2018-S1 (kodewilayah/explorer)")


KNOWN_RENAMES = [
    # 64.08.05.2006 "Benua Baru" became "Benua Baru Ilir" in 2022 (Kemendagri).
    {"code": "", "name": "Benua Baru", "kemendagri_code": "64.08.05.2006",
     "note": "nama lama sebelum 2022"},
]


async def load_known_renames(conn: asyncpg.Connection) -> dict:
    result = {"inserted": 0, "refused": []}
    for row in KNOWN_RENAMES:
        got = await store.add_aliases(conn, [{
            "region_code": row["kemendagri_code"], "kind": "former_name", "alias": row["name"],
            "alias_norm": normalize_name(row["name"]), "source": "Kemendagri 2022",
            "status": "active", "note": row["note"]}])
        result["inserted"] += len(got)
    return result


# What the reference data says of changes, without a date (data/README.md): loaded as region
# changes with what is known, so a region page tells it; none can be placed in a period.
KNOWN_CHANGES = [
    {"kind": "code_change", "from_codes": ["64.08.12.2002"], "to_codes": ["64.08.12.1002"],
     "note": "Singa Geweh: desa 64.08.12.2002 menjadi kelurahan 64.08.12.1002; tanggal tidak "
             "diketahui"},
    *({"kind": "creation", "from_codes": [], "to_codes": [code],
       "note": f"{name}: desa yang dibentuk sejak 2015 (tidak ada di daftar yang lebih lama); "
               "tanggal tidak diketahui"}
      for code, name in (("64.08.01.2014", "Teluk Baru"), ("64.08.07.2008", "Kernyanyan"),
                         ("64.08.11.2008", "Manubar Dalam"), ("64.08.11.2009", "Susuk Tengah"),
                         ("64.08.14.2009", "Masalap Raya"), ("64.08.17.2007", "Batu Timbau Ulu"))),
]


async def load_known_changes(conn: asyncpg.Connection) -> int:
    """The undated changes above, once each; Singa Geweh's old code also resolves to the
    kelurahan (a ``former_code`` alias), as the code in force today."""
    source = "data referensi (data/README.md)"
    known = await store.regions_named(conn, [c for ch in KNOWN_CHANGES for c in ch["to_codes"]])
    added = 0
    for change in KNOWN_CHANGES:
        if all(code in known for code in change["to_codes"]):  # the shipped regions are in
            added += await store.insert_missing_change(conn, {**change, "source": source})
    if "64.08.12.1002" in known and await store.add_aliases(conn, [{
            "region_code": "64.08.12.1002", "kind": "former_code", "alias": "64.08.12.2002",
            "alias_norm": "64.08.12.2002", "source": source, "status": "active",
            "note": "kode lama saat masih desa"}]):
        await regions_service.publish_regions(conn, ["64.08.12.1002"])
    return added
