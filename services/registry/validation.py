"""Row validation and region resolution: pure functions, no I/O.

A row is checked against its dataset's schema (period in the dataset's frequency, categories
from their allowed values, measures typed and bounded) and its region is resolved by Kemendagri
code, BPS code or name, only when that is unambiguous. Every refusal names the field, a machine
code and a message in Bahasa Indonesia that a village operator can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.contracts import RejectedRow

PERIOD_PATTERNS = {
    "annual": (re.compile(r"^\d{4}$"), "2024"),
    "semester": (re.compile(r"^\d{4}-S[12]$"), "2024-S1"),
    "quarterly": (re.compile(r"^\d{4}-Q[1-4]$"), "2024-Q3"),
    "monthly": (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "2024-07"),
}
RESERVED = {"region", "period"}
_PREFIXES = ("KABUPATEN", "KAB", "KECAMATAN", "KEC", "DESA", "KELURAHAN", "KEL")


def normalize_name(name: str) -> str:
    """Upper case, single spaces, no administrative prefix: 'Desa  Sangatta Utara' -> 'SANGATTA UTARA'."""
    text = re.sub(r"[^0-9A-Z ]+", " ", str(name).upper())
    text = re.sub(r"\s+", " ", text).strip()
    for prefix in _PREFIXES:
        if text.startswith(prefix + " "):
            return text[len(prefix) + 1:]
    return text


def normalize_code(code: str) -> str:
    return re.sub(r"\s+", "", str(code))


def valid_period(frequency: str, period: str) -> bool:
    pattern, _ = PERIOD_PATTERNS[frequency]
    return bool(pattern.match(period))


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
    by_alias_code: dict[str, set[str]] = field(default_factory=dict)
    by_name: dict[str, set[str]] = field(default_factory=dict)  # official names
    by_alias_name: dict[str, set[str]] = field(default_factory=dict)  # spellings, former names

    @classmethod
    def build(cls, regions: list[Region], aliases: list[tuple[str, str, str]]) -> "RegionIndex":
        """``aliases``: (region_code, kind, alias) of active aliases."""
        index = cls(regions={r.code: r for r in regions})
        for region in regions:
            index.by_name.setdefault(normalize_name(region.name), set()).add(region.code)
        for code, kind, alias in aliases:
            if kind in ("bps_code", "former_code"):
                index.by_alias_code.setdefault(normalize_code(alias), set()).add(code)
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
        code = normalize_code(text)
        candidates: set[str] = set()
        if code in self.regions:
            candidates = {code}
        elif code in self.by_alias_code:
            candidates = set(self.by_alias_code[code])
        else:
            # An official name in force wins over a spelling or a former name of another place.
            name = normalize_name(text)
            candidates = set(self.by_name.get(name) or self.by_alias_name.get(name, set()))
        candidates = {self._current(c) for c in candidates}
        if allowed_levels and len(candidates) > 1:
            narrowed = {c for c in candidates if self.regions[c].level in allowed_levels}
            candidates = narrowed or candidates
        if not candidates:
            return None, _reject("region", "region_unknown",
                                 f"Wilayah '{text}' tidak dikenal: gunakan kode Kemendagri "
                                 "(mis. 64.08.04.2001), kode BPS, atau nama resmi.")
        if len(candidates) > 1:
            names = "; ".join(self.describe(c) for c in sorted(candidates))
            return None, _reject("region", "region_ambiguous",
                                 f"Nama wilayah '{text}' cocok dengan lebih dari satu wilayah: "
                                 f"{names}. Gunakan kodenya.")
        resolved = candidates.pop()
        retired = self.regions[resolved].valid_until
        if retired and retired <= date.today().isoformat():
            return None, _reject("region", "region_retired",
                                 f"Kode wilayah {self.describe(resolved)} tidak berlaku lagi "
                                 f"sejak {retired} dan tidak punya kode pengganti.")
        if allowed_levels and self.regions[resolved].level not in allowed_levels:
            levels = ", ".join(sorted(allowed_levels))
            return None, _reject("region", "region_level",
                                 f"Dataset ini diisi per {levels}; {self.describe(resolved)} "
                                 f"adalah {self.regions[resolved].level}.")
        return resolved, None

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


def _coerce_measure(spec: dict, raw: Any) -> tuple[Any, str | None, str | None]:
    """Returns (value, error_code, message)."""
    name, kind = spec["name"], spec.get("type", "integer")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.get("required", True):
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
    text = str(raw).strip().replace(" ", "")
    if isinstance(raw, str) and "," in text and "." not in text:
        text = text.replace(",", ".")  # Indonesian decimal comma: 12,5
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, "not_a_number", f"Nilai {name} '{raw}' bukan angka."
    if not number.is_finite():  # NaN, Infinity (and 1e309 read as a float)
        return None, "not_a_number", f"Nilai {name} '{raw}' bukan angka."
    if abs(number) > NUMBER_LIMIT:
        return None, "out_of_range", (f"Nilai {name} {raw} di luar jangkauan "
                                      f"(paling besar {NUMBER_LIMIT:.0e}).")
    if kind == "integer":
        if number != number.to_integral_value():
            return None, "not_an_integer", f"Nilai {name} harus bilangan bulat, bukan '{raw}'."
        value: Any = int(number)
    else:
        value = float(number)
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None and number < Decimal(str(lo)):
        return None, "below_minimum", f"Nilai {name} {raw} di bawah batas minimum {lo}."
    if hi is not None and number > Decimal(str(hi)):
        return None, "above_maximum", f"Nilai {name} {raw} melebihi batas maksimum {hi}."
    return value, None, None


def validate_row(index: int, row: dict[str, Any], *, schema: dict, frequency: str,
                 regions: RegionIndex) -> tuple[ValidRow | None, list[RejectedRow]]:
    errors: list[RejectedRow] = []
    known = {"region", "period"} | {d["name"] for d in schema.get("dimensions", [])} | {
        m["name"] for m in schema.get("measures", [])}
    for key in row:
        if key not in known:
            errors.append(_reject(key, "unknown_field",
                                  f"Kolom '{key}' tidak dikenal untuk dataset ini; kolom yang "
                                  f"dikenal: {', '.join(sorted(known))}.", index))
    levels = set(schema.get("region_levels") or []) or None
    region_code, problem = regions.resolve(row.get("region"), levels)
    if problem:
        errors.append(problem.model_copy(update={"index": index}))
    period = str(row.get("period", "") or "").strip()
    if not period:
        errors.append(_reject("period", "period_required", "Kolom period wajib diisi.", index))
    elif not valid_period(frequency, period):
        example = PERIOD_PATTERNS[frequency][1]
        errors.append(_reject("period", "period_format",
                              f"Periode '{period}' tidak sesuai frekuensi dataset ({frequency}); "
                              f"contoh yang benar: {example}.", index))
    dims: dict[str, str] = {}
    for dim in schema.get("dimensions", []):
        name = dim["name"]
        raw = row.get(name)
        value = "" if raw is None else str(raw).strip()
        allowed = dim.get("values") or {}
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
    for spec in schema.get("measures", []):
        value, code, message = _coerce_measure(spec, row.get(spec["name"]))
        if code:
            errors.append(_reject(spec["name"], code, message, index))
        elif value is not None:
            values[spec["name"]] = value
    if errors:
        return None, errors
    return ValidRow(index, region_code, period, dims, values), []
