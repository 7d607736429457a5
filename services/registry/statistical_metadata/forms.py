"""A dataset's statistical metadata as a workbook in the BPS forms' layout, to hand over as it
is: one sheet MS-Kegiatan, then one MS-Variabel or MS-Indikator sheet per measure, each a
numbered list of the form's rows (No, Rincian, Isian) under a heading naming the dataset and
the version. Every text cell is made safe for spreadsheets."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from services.registry.statistical_metadata.models import FORM_OF, FORMS
from shared.clock import WITA
from shared.tabular import safe_text

CHOICES = {"pencacahan_lengkap": "Pencacahan lengkap", "survei": "Survei",
           "kompilasi_produk_administrasi": "Kompilasi produk administrasi",
           "cara_lain": "Cara lain sesuai perkembangan TI", "sektoral": "Statistik sektoral",
           "dasar": "Statistik dasar", "khusus": "Statistik khusus"}


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    if isinstance(value, str):
        return safe_text(CHOICES.get(value, value))
    return value


def _sheet(book: Workbook, name: str, form: str, heading: list[str], values: dict) -> None:
    sheet = book.create_sheet(name[:31])
    sheet.append([f"METADATA STATISTIK SEKTORAL: {form.upper()}"])
    sheet["A1"].font = Font(bold=True)
    for line in heading:
        sheet.append([safe_text(line)])
    sheet.append([])
    sheet.append(["No", "Rincian", "Isian"])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for number, (field, label) in enumerate(FORMS[form][1].items(), start=1):
        sheet.append([number, label, _text(values.get(field))])
        sheet.cell(sheet.max_row, 3).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["B"].width = 34
    sheet.column_dimensions["C"].width = 90


def workbook(answer: dict) -> bytes:
    """``answer``: the published metadata (service.published)."""
    version = answer["published"]
    document = (version or {}).get("document") or {}
    status = (f"versi {version['version']}, diverifikasi walidata "
              f"{version['decided_at'].astimezone(WITA):%d-%m-%Y %H:%M} WITA"
              if version and version.get("decided_at") else
              f"versi {version['version']}" if version else "belum ada versi terverifikasi")
    heading = [f"Dataset: {answer['title']} ({answer['dataset']})", f"Status: {status}",
               "Kelengkapan: " + ("lengkap" if answer["complete"] else
                                  "belum lengkap: " + ", ".join(answer["missing"]))]
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "MS-Kegiatan", "MS-Kegiatan", heading, document.get("kegiatan") or {})
    for name, meta in (document.get("measures") or {}).items():
        form = FORM_OF[meta["jenis"]]
        _sheet(book, f"{form} {name}", form, [*heading[:1], f"Ukuran: {name}"], meta)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
