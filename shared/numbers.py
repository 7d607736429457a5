"""Measures as people write them, read by the submission's locale and never guessed.

Indonesian (``id``): ``.`` groups thousands and ``,`` marks decimals (``1.234.567,5``); English
(``en``) the other way round. Numbers that arrive as numbers (JSON, numeric XLSX cells) are taken
as they are; text follows the locale's grammar strictly: a group after a thousands mark has
exactly three digits, so ``1.5`` is not Indonesian and is refused rather than read as 15. Text
that the other locale would read as a different value of the measure's type (``1,234`` for an
integer in ``id``: one point two three four, or one thousand two hundred thirty-four written
the English way) is refused as ambiguous. Every refusal is a ``NumberRefused`` with an English
code and an Indonesian message; no other exception leaves ``parse_measure``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
_MARKS = {"id": (".", ","), "en": (",", ".")}  # (thousands, decimal)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})


class NumberRefused(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _grammar(locale: str) -> re.Pattern:
    group, decimal = (re.escape(m) for m in _MARKS[locale])
    return re.compile(rf"^[+-]?(\d{{1,3}}(?:{group}\d{{3}})+|\d+)(?:{decimal}(\d+))?$")


_GRAMMAR = {loc: _grammar(loc) for loc in LOCALES}


def read_decimal(text: str, locale: str) -> Decimal | None:
    """The value of ``text`` under ``locale``'s grammar, or None when it does not follow it."""
    match = _GRAMMAR[locale].match(text)
    if not match:
        return None
    group, decimal = _MARKS[locale]
    return Decimal(text.replace(group, "").replace(decimal, "."))


def _how(locale: str) -> str:
    if locale == "id":
        return "titik untuk ribuan (2.000) dan koma untuk desimal (2,5)"
    return "koma untuk ribuan (2,000) dan titik untuk desimal (2.5)"


def parse_measure(raw: Any, *, kind: str, locale: str = DEFAULT_LOCALE, name: str = "nilai"
                  ) -> int | float:
    """``raw`` as a value of ``kind`` ('integer' or 'decimal'); raises ``NumberRefused``."""
    if locale not in LOCALES:
        raise NumberRefused("locale_unknown", f"Locale '{locale}' tidak dikenal; pilih id atau en.")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal, str)):
        raise NumberRefused("not_a_number", f"Nilai {name} '{raw}' bukan angka.")
    if isinstance(raw, str):
        number = _from_text(raw, kind=kind, locale=locale, name=name)
    else:
        if isinstance(raw, float) and not math.isfinite(raw):
            raise NumberRefused("not_a_number", f"Nilai {name} '{raw}' bukan angka.")
        number = Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)
    if kind == "integer":
        if number != number.to_integral_value():
            raise NumberRefused("not_an_integer",
                                f"Nilai {name} harus bilangan bulat, bukan '{raw}'.")
        return int(number)
    return float(number)


def _from_text(raw: str, *, kind: str, locale: str, name: str) -> Decimal:
    text = _SPACES.sub(" ", raw.translate(_MINUS)).strip()
    if re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+", text):
        raise NumberRefused("not_a_number",
                            f"Nilai {name} '{raw}' ditulis dalam notasi ilmiah; tulis angka "
                            "lengkapnya (mis. 1000, bukan 1e3).")
    if re.fullmatch(r"[+-]?\d[\d.,]*\s*[A-Za-z%/].*", text):
        raise NumberRefused("not_a_number",
                            f"Nilai {name} '{raw}' bukan angka: tulis angkanya saja, tanpa satuan "
                            "atau keterangan.")
    value = read_decimal(text, locale)
    other_locale = "en" if locale == "id" else "id"
    other = read_decimal(text, other_locale)
    if value is None:
        if other is not None:
            raise NumberRefused(
                "number_format",
                f"Nilai {name} '{raw}' tidak sesuai penulisan angka locale {locale} "
                f"({_how(locale)}). "
                f"Perbaiki angkanya, atau kirim dengan locale={other_locale} bila berkas memakai "
                "penulisan itu.")
        raise NumberRefused("not_a_number", f"Nilai {name} '{raw}' bukan angka.")
    has_fraction = _MARKS[locale][1] in text
    if kind == "integer" and has_fraction and other is not None and other != value:
        # '1,234' or '3,000' (id), '2.000' (en): a count written with a decimal part by the
        # locale is a thousands group by the other locale; neither reading is safe to store.
        raise NumberRefused(
            "number_ambiguous",
            f"Nilai {name} '{raw}' meragukan: menurut locale {locale} artinya "
            f"{_show(value, locale)}, "
            f"menurut locale {other_locale} artinya {_show(other, locale)}. Untuk bilangan bulat "
            f"tulis tanpa desimal, dengan {_how(locale)}.")
    return value


def _show(value: Decimal, locale: str) -> str:
    """``value`` written the way ``locale`` writes it."""
    group, decimal = _MARKS[locale]
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", group)
    return sign + grouped + (decimal + fraction if fraction else "")


def format_number(value: int | Decimal, locale: str, *, grouped: bool = True) -> str:
    """How a person using ``locale`` writes ``value`` (used by tests and messages)."""
    text = _show(Decimal(value), locale)
    return text if grouped else text.replace(_MARKS[locale][0], "")
