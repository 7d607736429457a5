"""Region changes read from an import: pure, no I/O. Rows that carry a ``change`` become dated
events (a split, a merge, a code change, a move, a rename, a creation), each checked before
anything is written: the old codes exist and are still valid on the date, the levels agree,
the dates do not overlap. Every refusal names the line and what to fix, in Indonesian."""

from __future__ import annotations

from datetime import date

from services.registry.regions.index import Region, VILLAGE

NEEDS_DATE = {"split", "merge", "code_change", "move"}
KIND_WORD = {"split": "Pemekaran", "merge": "Penggabungan", "code_change": "Perubahan kode",
             "move": "Perpindahan", "rename": "Perubahan nama", "creation": "Pembentukan"}
MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember"]


def tanggal(day: date | str | None) -> str:
    """28 November 2026: a date as people in Kutai Timur read it."""
    if day is None:
        return "tanggal tidak diketahui"
    day = date.fromisoformat(str(day))
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _tier(level: str) -> str:
    return "village" if level in VILLAGE else level


def group(rows: list[dict]) -> list[dict]:
    """The changes the rows describe: a split's new villages (same old code and date) are one
    change, so are a merge's rows (same old codes and date); every other row is its own."""
    changes: dict[tuple, dict] = {}
    for line, row in enumerate(rows, start=1):
        kind = row.get("change")
        if not kind:
            continue
        froms = tuple(sorted(set(row.get("from_codes") or ())))
        if kind == "rename":
            froms = (row["code"],)
        key = ((kind, froms, row.get("valid_from")) if kind in ("split", "merge")
               else (kind, line))
        change = changes.setdefault(key, {
            "kind": kind, "effective": row.get("valid_from"), "from_codes": list(froms),
            "to_codes": [], "lines": [], "decree_number": row.get("decree_number"),
            "decree_date": row.get("decree_date"), "note": row.get("note")})
        change["to_codes"].append(row["code"])
        change["lines"].append(line)
    return list(changes.values())


SHAPES = {
    "split": (lambda froms, tos: len(froms) == 1 and len(set(tos)) >= 2,
              "Pemekaran membagi satu kode lama menjadi dua wilayah atau lebih (satu baris per "
              "wilayah hasil, kode lama yang sama)."),
    "merge": (lambda froms, tos: len(froms) >= 2 and len(set(tos)) == 1,
              "Penggabungan menyatukan dua kode lama atau lebih menjadi satu wilayah."),
    "code_change": (lambda froms, tos: len(froms) == 1 and froms[0] not in tos,
                    "Perubahan kode menyebut tepat satu kode lama yang berbeda dari kode "
                    "barunya."),
    "move": (lambda froms, tos: len(froms) == 1 and froms[0] not in tos,
             "Perpindahan menyebut tepat satu kode lama (kode di induk yang lama)."),
}


def _error(change: dict, fieldname: str, code: str, message: str) -> dict:
    return {"line": change["lines"][0], "field": fieldname, "code": code, "message": message}


def _shape(change: dict) -> dict | None:
    """The change's date, old codes and number of results, or what is missing."""
    kind, froms = change["kind"], change["from_codes"]
    if kind in NEEDS_DATE and change["effective"] is None:
        return _error(change, "valid_from", "change_date_required",
                      f"{KIND_WORD[kind]} perlu tanggal berlakunya di kolom valid_from.")
    if kind in NEEDS_DATE and not froms:
        return _error(change, "from_codes", "from_codes_required",
                      f"{KIND_WORD[kind]} perlu kode lama di kolom from_codes.")
    if kind in SHAPES and not SHAPES[kind][0](froms, change["to_codes"]):
        return _error(change, "from_codes", "change_shape", SHAPES[kind][1])
    return None


def check(change: dict, rows: list[dict], known: dict[str, Region]) -> list[dict]:
    """What is wrong with one change (an empty list when it can be applied)."""
    if problem := _shape(change):
        return [problem]
    kind, froms, tos = change["kind"], change["from_codes"], change["to_codes"]
    errors = []
    by_code = {r["code"]: r for r in rows}
    for old in froms:
        region = known.get(old)
        if region is None:
            errors.append(_error(change, "from_codes", "from_unknown",
                                 f"Kode lama {old} tidak ada."))
            continue
        errors += _dates(change, region) + [
            _error(change, "level", "level_mismatch",
                   f"{by_code[new]['level'].title()} {new} tidak setingkat dengan "
                   f"{region.level} {old}.")
            for new in tos if _tier(by_code[new]["level"]) != _tier(region.level)]
    errors += [_error(change, "code", "code_exists",
                      f"Kode {new} sudah ada; hasil {KIND_WORD[kind].lower()} adalah kode baru "
                      "(atau kode lama yang tetap berlaku).")
               for new in tos if kind in NEEDS_DATE and new in known and new not in froms]
    if kind == "move" and froms[0] in known \
            and by_code[tos[0]].get("parent_code") == known[froms[0]].parent_code:
        errors.append(_error(change, "parent_code", "move_same_parent",
                             "Perpindahan harus ke induk (kecamatan) yang lain."))
    if kind == "rename" and froms[0] not in known:
        errors.append(_error(change, "code", "rename_unknown",
                             f"Kode {froms[0]} belum ada; perubahan nama hanya untuk kode yang "
                             "sudah ada."))
    return errors


def _dates(change: dict, region: Region) -> list[dict]:
    """An old code must be valid up to the change: not retired already, begun before it."""
    day = change["effective"]
    if day is None:
        return []
    errors = []
    if region.valid_until is not None and region.code not in change["to_codes"]:
        errors.append(_error(change, "from_codes", "change_overlaps",
                             f"Kode {region.code} {region.name} sudah tidak berlaku sejak "
                             f"{tanggal(region.valid_until)}; perubahan bertanggal "
                             f"{tanggal(day)} bertumpang tindih."))
    if region.valid_from is not None and str(day) <= region.valid_from:
        errors.append(_error(change, "valid_from", "change_overlaps",
                             f"Kode {region.code} {region.name} baru berlaku sejak "
                             f"{tanggal(region.valid_from)}; perubahannya harus sesudah itu."))
    return errors


def retirements(change: dict) -> list[tuple[str, str | None, date]]:
    """(old code, its single successor or None, the first day it is no longer used) for each
    code the change ends: a split's old village has no single successor."""
    if change["kind"] not in NEEDS_DATE:
        return []
    tos = sorted(set(change["to_codes"]))
    single = tos[0] if len(tos) == 1 else None
    return [(old, single, change["effective"]) for old in change["from_codes"]
            if old not in tos]


def describe(change: dict, names: dict[str, str]) -> str:
    """One sentence: 'Pemekaran 64.08.01.2001 Long Lees menjadi ... berlaku 1 Januari 2025'."""
    def named(codes):
        return " dan ".join(f"{c} {names.get(c, '')}".strip() for c in codes)

    kind = change["kind"]
    froms, tos = change["from_codes"], sorted(set(change["to_codes"]))
    if kind == "rename":
        text = f"Perubahan nama {named(tos)}"
    elif kind == "creation" or not froms:
        text = f"Pembentukan {named(tos)}"
    else:
        text = f"{KIND_WORD[kind]} {named(froms)} menjadi {named(tos)}"
    text += f", berlaku {tanggal(change.get('effective'))}"
    if change.get("decree_number"):
        text += f" ({change['decree_number']}"
        text += f", {tanggal(change['decree_date'])})" if change.get("decree_date") else ")"
    if change.get("sample"):
        text += " [data contoh]"
    return text + "."
