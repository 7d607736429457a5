"""Row validation and region resolution: pure functions, no I/O.

A row is checked against its dataset's schema (period in the dataset's frequency, categories
from their allowed values, measures typed and bounded) and its region is resolved by Kemendagri
code, BPS code or name, only when that is unambiguous. Every refusal names the field, a machine
code and a message in Bahasa Indonesia that a village operator can act on.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.registry.numbers import DEFAULT_LOCALE, NumberRefused, parse_measure
from shared import clock
from shared.contracts import DatasetSchemaV1, MeasureSpec, RejectedRow

PERIOD_PATTERNS = {
    "annual": (re.compile(r"^\d{4}$"), "2024"),
    "semester": (re.compile(r"^\d{4}-S[12]$"), "2024-S1"),
    "quarterly": (re.compile(r"^\d{4}-Q[1-4]$"), "2024-Q3"),
    "monthly": (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "2024-07"),
}
# Level words people write before or after a name, or in brackets. Desa and kelurahan are one
# tier: villages change status (Singa Geweh became a kelurahan) and staff keep the old word.
VILLAGE = frozenset({"desa", "kelurahan"})
LEVEL_WORDS = {
    "KABUPATEN": frozenset({"kabupaten"}), "KAB": frozenset({"kabupaten"}),
    "KECAMATAN": frozenset({"kecamatan"}), "KEC": frozenset({"kecamatan"}),
    "DESA": VILLAGE, "DS": VILLAGE, "KELURAHAN": VILLAGE, "KEL": VILLAGE,
}
LEVEL_LABEL = {"kabupaten": "kabupaten", "kecamatan": "kecamatan", "desa": "desa/kelurahan",
               "kelurahan": "desa/kelurahan"}


def split_level(text: str) -> tuple[frozenset[str], str]:
    """(levels written, name): '(Kec.) Sangatta-Utara' -> ({kecamatan}, 'SANGATTA UTARA').

    Level words count at the start or the end of the cell (brackets and punctuation are
    ignored); a name that is nothing but a level word keeps it."""
    tokens = re.sub(r"[^0-9A-Z]+", " ", str(text).upper()).split()
    levels: set[str] = set()
    while len(tokens) > 1 and tokens[0] in LEVEL_WORDS:
        levels |= LEVEL_WORDS[tokens.pop(0)]
    while len(tokens) > 1 and tokens[-1] in LEVEL_WORDS:
        levels |= LEVEL_WORDS[tokens.pop()]
    return frozenset(levels), " ".join(tokens)


def normalize_name(name: str) -> str:
    """Upper case, single spaces, no punctuation, no level word: 'Desa  Sangatta Utara' ->
    'SANGATTA UTARA'."""
    return split_level(name)[1]


def normalize_code(code: str) -> str:
    return re.sub(r"\s+", "", str(code))


_CODE_LIKE = re.compile(r"[0-9][0-9.\s\-/]*")


def code_digits(text: str) -> str | None:
    """The digits of a cell written as a code ('64.08.04.2001', '64 08 04 2001', '6408-04-2001',
    '6404040012'), or None when the cell is not a code."""
    stripped = str(text).strip().strip(".,;:'\"()[]{}")
    if not _CODE_LIKE.fullmatch(stripped):
        return None
    return re.sub(r"\D", "", stripped)


YEARS = range(1900, 2101)  # a real period: no year 0000 or 9999


def valid_period(frequency: str, period: str) -> bool:
    pattern, _ = PERIOD_PATTERNS[frequency]
    return bool(pattern.match(period)) and int(period[:4]) in YEARS


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None
    path: tuple[str, ...]
    valid_until: str | None = None
    successor_code: str | None = None


@dataclass
class RegionIndex:
    """All regions and active aliases, for resolving what a submitter wrote."""

    regions: dict[str, Region]
    by_alias_code: dict[str, set[str]] = field(default_factory=dict)  # digits only
    by_name: dict[str, set[str]] = field(default_factory=dict)  # official names
    by_alias_name: dict[str, set[str]] = field(default_factory=dict)  # spellings, former names
    by_digits: dict[str, str] = field(default_factory=dict)  # Kemendagri code without dots

    @classmethod
    def build(cls, regions: list[Region], aliases: list[tuple[str, str, str]]) -> "RegionIndex":
        """``aliases``: (region_code, kind, alias) of active aliases."""
        index = cls(regions={r.code: r for r in regions})
        for region in regions:
            index.by_name.setdefault(normalize_name(region.name), set()).add(region.code)
            index.by_digits[re.sub(r"\D", "", region.code)] = region.code
        for code, kind, alias in aliases:
            if kind in ("bps_code", "former_code"):
                digits = re.sub(r"\D", "", alias)
                index.by_alias_code.setdefault(digits, set()).add(code)
            else:
                index.by_alias_name.setdefault(normalize_name(alias), set()).add(code)
        return index

    def describe(self, code: str) -> str:
        region = self.regions[code]
        parent = self.regions.get(region.parent_code or "")
        where = f", Kec. {parent.name}" if parent and parent.level == "kecamatan" else ""
        return f"{code} {region.name}{where}"

    def resolve(self, raw: Any, allowed_levels: set[str] | None = None
                ) -> tuple[str | None, RejectedRow | None]:
        text = str(raw if raw is not None else "").strip()
        if not text:
            return None, _reject("region", "region_required",
                                 "Kolom region wajib diisi (kode Kemendagri, kode BPS, atau nama).")
        written: frozenset[str] = frozenset()
        digits = code_digits(text)
        if digits is not None:
            candidates = self._by_code(text, digits)
            if not candidates:
                return None, _reject("region", "region_unknown",
                                     f"Kode wilayah '{text}' tidak dikenal: gunakan kode "
                                     "Kemendagri (mis. 64.08.04.2001) atau kode BPS.")
        else:
            written, name = split_level(text)
            found = self._by_name(name)
            if written:
                at_level = {c for c in found if self.regions[c].level in written} or {
                    c for c in self.by_alias_name.get(name, set())
                    if self.regions[c].level in written}  # a spelling at the written level
                if found and not at_level:
                    # A kecamatan written in the cell is never bent to the desa of that name.
                    others = "; ".join(f"{self.regions[c].level} {self.describe(c)}"
                                       for c in sorted(found))
                    return None, _reject(
                        "region", "region_level_mismatch",
                        f"Tidak ada {LEVEL_LABEL[min(written)]} bernama '{name.title()}'; yang "
                        f"ada: {others}. Perbaiki tingkat wilayahnya atau gunakan kodenya.")
                found = at_level
            candidates = set(found)
            if not candidates:
                return None, self._unknown_name(text, name, written, allowed_levels)
        candidates = {self._current(c) for c in candidates}
        if allowed_levels and len(candidates) > 1:
            narrowed = {c for c in candidates if self.regions[c].level in allowed_levels}
            candidates = narrowed or candidates
        if len(candidates) > 1:
            names = "; ".join(self.describe(c) for c in sorted(candidates))
            return None, _reject("region", "region_ambiguous",
                                 f"Wilayah '{text}' cocok dengan lebih dari satu wilayah: "
                                 f"{names}. Gunakan kodenya atau tulis tingkatnya "
                                 "(mis. Kec. atau Desa).")
        resolved = candidates.pop()
        retired = self.regions[resolved].valid_until
        if retired and retired <= clock.today_wita().isoformat():
            return None, _reject("region", "region_retired",
                                 f"Kode wilayah {self.describe(resolved)} tidak berlaku lagi "
                                 f"sejak {retired} dan tidak punya kode pengganti.")
        if allowed_levels and self.regions[resolved].level not in allowed_levels:
            levels = ", ".join(sorted(allowed_levels))
            return None, _reject("region", "region_level",
                                 f"Dataset ini diisi per {levels}; {self.describe(resolved)} "
                                 f"adalah {self.regions[resolved].level}.")
        return resolved, None

    def _by_code(self, text: str, digits: str) -> set[str]:
        """Kemendagri code (dots, spaces or dashes optional) or an alias code (BPS, former)."""
        if text.strip() in self.regions:
            return {text.strip()}
        found = set()
        if digits in self.by_digits:
            found.add(self.by_digits[digits])
        found |= self.by_alias_code.get(digits, set())
        return found

    def _by_name(self, name: str) -> set[str]:
        # An official name in force wins over a spelling or a former name of another place.
        return set(self.by_name.get(name) or self.by_alias_name.get(name, set()))

    def suggestions(self, name: str, levels: frozenset[str] | set[str] | None = None,
                    limit: int = 3) -> list[dict]:
        """The regions whose official name or alias is closest to ``name`` (never applied)."""
        names = {**{k: v for k, v in self.by_alias_name.items()}, **self.by_name}
        squeezed = {k.replace(" ", ""): k for k in names}
        close = difflib.get_close_matches(name.replace(" ", ""), list(squeezed), n=10,
                                          cutoff=0.6)
        out: list[dict] = []
        for key in close:
            for code in sorted(names[squeezed[key]]):
                code = self._current(code)
                region = self.regions[code]
                if levels and region.level not in levels:
                    continue
                if region.valid_until and region.valid_until <= clock.today_wita().isoformat():
                    continue
                if all(s["code"] != code for s in out):
                    parent = self.regions.get(region.parent_code or "")
                    out.append({"code": code, "name": region.name, "level": region.level,
                                "kecamatan": parent.name if parent and
                                parent.level == "kecamatan" else None})
        return out[:limit]

    def _unknown_name(self, text: str, name: str, written: frozenset[str],
                      allowed_levels: set[str] | None) -> RejectedRow:
        levels = set(written) or None
        if allowed_levels:
            levels = (levels & allowed_levels if levels else set(allowed_levels)) or levels
        found = self.suggestions(name, levels) if name else []
        hint = ""
        if found:
            hint = " Mungkin maksudnya: " + "; ".join(
                f"{s['level']} {s['name']} ({s['code']}"
                + (f", Kec. {s['kecamatan']}" if s["kecamatan"] else "") + ")"
                for s in found) + ". Tulis nama resmi atau kodenya; saran tidak dipakai otomatis."
        return RejectedRow(index=-1, field="region", code="region_unknown",
                           message=f"Wilayah '{text}' tidak dikenal.{hint or ' Gunakan kode '}"
                                   + ("" if hint else "Kemendagri (mis. 64.08.04.2001), kode "
                                      "BPS, atau nama resmi."),
                           details={"suggestions": found})

    def _current(self, code: str) -> str:
        """Follow successors of retired codes to the code in force today."""
        seen = set()
        region = self.regions[code]
        while region.successor_code and region.successor_code not in seen:
            seen.add(region.code)
            region = self.regions[region.successor_code]
        return region.code

    def within(self, code: str, scope: str) -> bool:
        return scope in self.regions[code].path


def _reject(fieldname: str | None, code: str, message: str, index: int = -1) -> RejectedRow:
    return RejectedRow(index=index, field=fieldname, code=code, message=message)


@dataclass
class ValidRow:
    index: int
    region_code: str
    period: str
    dims: dict[str, str]
    values: dict[str, Any]

    @property
    def dims_key(self) -> str:
        return dims_key(self.dims)


def dims_key(dims: dict[str, str]) -> str:
    return "|".join(f"{k}={dims[k]}" for k in sorted(dims))


TEXT_MEASURE_MAX = 2000
NUMBER_LIMIT = Decimal(10) ** 15  # shared.validation.NUMBER_LIMIT: what a float8 keeps exactly


def _coerce_measure(spec: MeasureSpec, raw: Any, locale: str
                    ) -> tuple[Any, str | None, str | None]:
    """Returns (value, error_code, message)."""
    name, kind = spec.name, spec.type
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.required:
            return None, "value_required", f"Kolom {name} wajib diisi."
        return None, None, None
    if kind == "text":
        value = str(raw)
        if len(value) > TEXT_MEASURE_MAX:
            return None, "text_too_long", (f"Nilai {name} terlalu panjang (paling banyak "
                                           f"{TEXT_MEASURE_MAX} karakter).")
        if any((ord(c) < 0x20 and c not in "\t\n\r") or ord(c) == 0x7F
               or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            return None, "invalid_characters", f"Nilai {name} berisi karakter terlarang."
        return value, None, None
    try:
        value = parse_measure(raw, kind="integer" if kind == "integer" else "decimal",
                              locale=locale, name=name)
    except NumberRefused as refused:
        return None, refused.code, refused.message
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None, "not_a_number", f"Nilai {name} '{raw}' bukan angka."
    if not number.is_finite():  # NaN, Infinity (and 1e309 read as a float)
        return None, "not_a_number", f"Nilai {name} '{raw}' bukan angka."
    if abs(number) > NUMBER_LIMIT:
        return None, "out_of_range", (f"Nilai {name} {raw} di luar jangkauan "
                                      f"(paling besar {NUMBER_LIMIT:.0e}).")
    lo, hi = spec.min, spec.max
    if lo is not None and number < Decimal(str(lo)):
        return None, "below_minimum", f"Nilai {name} {raw} di bawah batas minimum {lo}."
    if hi is not None and number > Decimal(str(hi)):
        return None, "above_maximum", f"Nilai {name} {raw} melebihi batas maksimum {hi}."
    return value, None, None


def validate_row(index: int, row: dict[str, Any], *, schema: DatasetSchemaV1, frequency: str,
                 regions: RegionIndex, locale: str = DEFAULT_LOCALE
                 ) -> tuple[ValidRow | None, list[RejectedRow]]:
    errors: list[RejectedRow] = []
    known = {"region", "period", *schema.dimension_names, *schema.measure_names}
    for key in row:
        if key not in known:
            errors.append(_reject(key, "unknown_field",
                                  f"Kolom '{key}' tidak dikenal untuk dataset ini; kolom yang "
                                  f"dikenal: {', '.join(sorted(known))}.", index))
    levels = set(schema.region_levels) or None
    region_code, problem = regions.resolve(row.get("region"), levels)
    if problem:
        errors.append(problem.model_copy(update={"index": index}))
    period = str(row.get("period", "") or "").strip()
    if not period:
        errors.append(_reject("period", "period_required", "Kolom period wajib diisi.", index))
    elif not valid_period(frequency, period):
        example = PERIOD_PATTERNS[frequency][1]
        errors.append(_reject("period", "period_format",
                              f"Periode '{period}' tidak sesuai frekuensi dataset ({frequency}) "
                              f"atau tahunnya di luar {YEARS.start}-{YEARS.stop - 1}; contoh "
                              f"yang benar: {example}.", index))
    dims: dict[str, str] = {}
    for dim in schema.dimensions:
        name = dim.name
        raw = row.get(name)
        value = "" if raw is None else str(raw).strip()
        allowed = dim.values
        if not value:
            errors.append(_reject(name, "value_required", f"Kolom {name} wajib diisi.", index))
            continue
        if allowed:
            match = next((k for k in allowed if k.upper() == value.upper()
                          or str(allowed[k]).upper() == value.upper()), None)
            if match is None:
                errors.append(_reject(name, "value_not_allowed",
                                      f"Nilai {name} '{value}' tidak diizinkan; pilih salah satu: "
                                      f"{', '.join(allowed)}.", index))
                continue
            value = match
        dims[name] = value
    values: dict[str, Any] = {}
    for spec in schema.measures:
        value, code, message = _coerce_measure(spec, row.get(spec.name), locale)
        if code:
            errors.append(_reject(spec.name, code, message, index))
        elif value is not None:
            values[spec.name] = value
    if errors:
        return None, errors
    return ValidRow(index, region_code, period, dims, values), []
