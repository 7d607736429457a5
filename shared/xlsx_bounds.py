"""How big an XLSX sheet really is, read from its XML before any reader allocates for it.

A reader of a sheet (python-calamine) allocates the sheet's whole used range, rows x columns,
whatever few cells it holds: a 1.7 KB workbook with one cell at ``XFD1048576`` asks for 512 GiB
and aborts the process. So the first sheet's XML is scanned first (streamed out of the zip,
whose expansion is already bounded), for the largest row and column any cell names and the
rows that hold cells; a range wider than the columns allowed, longer than the rows allowed, or
far larger than the rows actually sent is refused before the reader sees the file.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from shared.errors import PayloadTooLarge, Unprocessable

_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_ROW = re.compile(rb"<(?:\w+:)?row\b")
_ANY_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")  # with or without a reference
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass
class SheetSize:
    max_row: int = 0
    max_column: int = 0
    rows: int = 0  # <row> elements, blank or not
    cells: int = 0  # <c> elements

def column_number(letters: bytes | str) -> int:
    number = 0
    for ch in letters if isinstance(letters, str) else letters.decode():
        number = number * 26 + ord(ch) - 64
    return number


def first_sheet_part(archive: zipfile.ZipFile) -> str:
    """The zip member of the workbook's first sheet (the one rows are read from)."""
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    sheet = workbook.find(f"{_NS_MAIN}sheets/{_NS_MAIN}sheet")
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target") for r in rels.iter(f"{_NS_PKG}Relationship")
                  if r.get("Id") == sheet.get(f"{_NS_REL}id"))
    return target.lstrip("/") if target.startswith("/") else \
        posixpath.normpath(posixpath.join("xl", target))


def sheet_size(path: Path) -> SheetSize:
    size, tail = SheetSize(), b""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(first_sheet_part(archive)) as part:
            while piece := part.read(1 << 20):
                text = tail + piece
                cut = text.rfind(b"<")  # a tag may span two pieces: keep the last one back
                cut = len(text) if cut < 0 else cut
                body, tail = text[:cut], text[cut:]
                for match in _CELL.finditer(body):
                    size.max_column = max(size.max_column, column_number(match.group(1)))
                    size.max_row = max(size.max_row, int(match.group(2)))
                size.rows += len(_ROW.findall(body))
                size.cells += len(_ANY_CELL.findall(body))
            size.cells += len(_ANY_CELL.findall(tail))
            for match in _CELL.finditer(tail):
                size.max_column = max(size.max_column, column_number(match.group(1)))
                size.max_row = max(size.max_row, int(match.group(2)))
            size.rows += len(_ROW.findall(tail))
    except (KeyError, StopIteration, AttributeError, ET.ParseError, zipfile.BadZipFile) as exc:
        raise Unprocessable("Berkas XLSX rusak atau bukan XLSX.", code="malformed_xlsx",
                            details=[{"line": None, "column": None, "message": str(exc)}]
                            ) from exc
    return size


def check_sheet(path: Path, *, max_rows: int, max_columns: int, max_cells: int) -> SheetSize:
    """Refuse a first sheet whose used range is too large to read, before reading it."""
    size = sheet_size(path)
    if size.max_column > max_columns:
        raise Unprocessable(
            f"Lembar pertama memakai {size.max_column} kolom; paling banyak {max_columns}. "
            "Hapus kolom kosong atau isian di kolom jauh di kanan, lalu kirim lagi.",
            code="too_many_columns", details=[{"max_columns": max_columns,
                                               "columns": size.max_column}])
    if size.max_row > max_rows + 1:
        raise PayloadTooLarge(
            f"Lembar pertama memakai sampai baris {size.max_row}; paling banyak {max_rows} "
            "baris per kiriman. Bagi berkas menjadi beberapa kiriman, atau hapus isian di baris "
            "jauh di bawah data.", code="too_many_rows",
            details=[{"max_rows": max_rows, "last_row": size.max_row}])
    if size.max_row > 2 * size.rows + 100:
        raise Unprocessable(
            f"Lembar pertama memakai sampai baris {size.max_row}, padahal hanya {size.rows} "
            "baris berisi. Hapus isian atau format di baris jauh di bawah data, lalu kirim lagi.",
            code="sheet_range_too_large",
            details=[{"last_row": size.max_row, "rows_with_content": size.rows}])
    if size.cells > max_cells or size.max_row * size.max_column > max_cells:
        raise PayloadTooLarge(
            f"Lembar pertama memakai {max(size.cells, size.max_row * size.max_column)} sel; "
            f"paling banyak {max_cells} per kiriman. Bagi berkas menjadi beberapa kiriman, atau "
            "hapus isian di luar tabel data.", code="too_many_cells",
            details=[{"max_cells": max_cells, "cells": size.cells,
                      "last_row": size.max_row, "last_column": size.max_column}])
    return size


def check_zip_expansion(path: Path, limit: int) -> None:
    """Refuse an XLSX whose content expands beyond ``limit`` bytes (a zip bomb), by counting
    what actually comes out rather than trusting the sizes the archive declares."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                if info.file_size > limit:
                    raise _too_large(limit)
                with archive.open(info) as member:
                    while piece := member.read(1 << 20):
                        total += len(piece)
                        if total > limit:
                            raise _too_large(limit)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise Unprocessable("Berkas XLSX rusak atau bukan XLSX.", code="malformed_xlsx",
                            details=[{"line": None, "column": None, "message": str(exc)}]
                            ) from exc


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Isi berkas setelah dibuka melebihi batas {limit // (1024 * 1024)} MB.",
        code="decompressed_too_large", details=[{"limit_bytes": limit}])
