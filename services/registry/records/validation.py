"""Row validation: pure functions, no I/O. A row is checked against its dataset's schema
(period in the dataset's frequency, categories from their allowed values, measures typed and
bounded) and its region resolved (``regions.index``). Every refusal names the field, a machine
code and a message in Bahasa Indonesia that a village operator can act on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.numbers import DEFAULT_LOCALE, NumberRefused, format_number, parse_measure
from services.registry.regions.service import RegionIndex
from shared.contracts import DatasetSchemaV1, MeasureSpec, RejectedRow
from shared.reporting_calendar import PERIOD_PATTERNS, YEARS, period_end, valid_period

def _reject(fieldname: str | None, code: str, message: str, index: int = -1) -> RejectedRow:
    return RejectedRow(index=index, field=fieldname, code=code, message=message)


@dataclass
class ValidRow:
    index: int
    region_code: str
    period: str
    dims: dict[str, str]
    values: dict[str, Any]
    region_written: str | None = None  # the cell as sent, for the dry run's resolution
    region_as_of: str | None = None  # the day it was resolved on (the period's last day)

    @property
    def dims_key(self) -> str:
        return dims_key(self.dims)


def dims_key(dims: dict[str, str]) -> str:
    return "|".join(f"{k}={dims[k]}" for k in sorted(dims))


TEXT_MEASURE_MAX = 2000
NUMBER_LIMIT = Decimal(10) ** 15  # shared.validation.NUMBER_LIMIT: what a float8 keeps exactly


def _limit(bound: float | int, locale: str) -> str:
    """A schema bound as the sender writes numbers: 0.0 -> '0', 1500 -> '1.500' (id)."""
    value = Decimal(str(bound))
    value = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
    return format_number(value, locale)


def _coerce_measure(spec: MeasureSpec, raw: Any, locale: str
                    ) -> tuple[Any, str | None, str | None]:
    """Returns (value, error_code, message)."""
    name = spec.name
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.required:
            return None, "value_required", f"Kolom {name} wajib diisi."
        return None, None, None
    if not spec.numeric:
        value = str(raw)
        if len(value) > TEXT_MEASURE_MAX:
            return None, "text_too_long", (f"Nilai {name} terlalu panjang (paling banyak "
                                           f"{TEXT_MEASURE_MAX} karakter).")
        if any((ord(c) < 0x20 and c not in "\t\n\r") or ord(c) == 0x7F
               or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            return None, "invalid_characters", f"Nilai {name} berisi karakter terlarang."
        return value, None, None
    try:
        value = parse_measure(raw, kind="integer" if spec.behaviour.whole else "decimal",
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
        return None, "below_minimum", (f"Nilai {name} {raw} di bawah batas minimum "
                                       f"{_limit(lo, locale)}.")
    if hi is not None and number > Decimal(str(hi)):
        return None, "above_maximum", (f"Nilai {name} {raw} melebihi batas maksimum "
                                       f"{_limit(hi, locale)}.")
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
    period = str(row.get("period", "") or "").strip()
    known_period = bool(period) and valid_period(frequency, period)
    # the region as it was in the period (its last day): docs/registry.md "Regions that change"
    as_of = period_end(frequency, period).isoformat() if known_period else None
    region_code, problem = regions.resolve(row.get("region"), levels, as_of)
    if problem:
        errors.append(problem.model_copy(update={"index": index}))
    if not period:
        errors.append(_reject("period", "period_required", "Kolom period wajib diisi.", index))
    elif not known_period:
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
    return ValidRow(index, region_code, period, dims, values, str(row.get("region")).strip(),
                    as_of), []

