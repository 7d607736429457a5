"""Rows out of JSON, CSV and XLSX, with headers mapped to the dataset's fields.

Pure and synchronous (the service runs it in a worker thread): a ``RowSource`` yields one dict
per row, reading files incrementally, and records warnings (unknown columns) once the header is
read. Malformed input raises ``Unprocessable`` naming the line and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any, Iterator

from services.ingest.limits import Limits, check_cells, too_many_columns
from shared.xlsx_bounds import check_sheet, check_zip_expansion
from shared.contracts import DatasetSchemaV1
from shared.errors import Unprocessable

# Words submitters write for the two fields every dataset has.
ALIASES = {
    "region": ["wilayah", "kode_wilayah", "kode_kemendagri", "kode_desa", "desa",
               "nama_desa", "kelurahan", "desa_kelurahan", "region_code", "kode"],
    "period": ["tahun", "periode", "period_code", "bulan_tahun"],
}


def norm(text: Any) -> str:
    """'  Jenis Kelamin ' -> 'jenis_kelamin'; 'Jumlah-Penduduk (jiwa)' -> 'jumlah_penduduk_jiwa'."""
    return re.sub(r"[^0-9a-z]+", "_", str(text).strip().lower()).strip("_")


class FieldSet:
    """The fields a dataset's rows may carry, and every spelling that maps to each."""

    def __init__(self, schema: DatasetSchemaV1 | None):
        """``schema`` None: the registry could not be reached, every column passes."""
        self.known = schema is not None
        self.lookup: dict[str, str] = {}
        names = ["region", "period"]
        labels: dict[str, str] = {}
        self.dimensions = schema.dimension_names if schema else []
        for item in [*schema.dimensions, *schema.measures] if schema else []:
            names.append(item.name)
            if item.label:
                labels[item.name] = item.label
        self.names = names
        for field, aliases in ALIASES.items():
            for alias in aliases:
                self.lookup.setdefault(alias, field)
        for name in names:
            self.lookup[norm(name)] = name
        for name, label in labels.items():
            self.lookup.setdefault(norm(label), name)

    def target(self, header: Any) -> str | None:
        key = norm(header)
        if not key:
            return None
        if not self.known:  # registry unreachable: pass the normalised name on
            return self.lookup.get(key, key)
        return self.lookup.get(key)


def _warn_unknown(column: str, fields: FieldSet) -> dict:
    return {"code": "unknown_column", "column": column,
            "message": f"Kolom '{column}' tidak dikenal untuk dataset ini dan diabaikan; kolom "
                       f"yang dikenal: {', '.join(fields.names)}."}


class HeaderMap:
    def __init__(self, headers: list[Any], fields: FieldSet, max_columns: int = 100):
        while headers and (headers[-1] is None or not str(headers[-1]).strip()):
            headers = headers[:-1]
        if len(headers) > max_columns:
            raise too_many_columns(len(headers), max_columns)
        self.targets: list[str | None] = []
        self.warnings: list[dict] = []
        seen: set[str] = set()
        for position, header in enumerate(headers, start=1):
            text = "" if header is None else str(header).strip()
            target = fields.target(text)
            if text and target is None:
                self.warnings.append(_warn_unknown(text, fields))
            elif target in seen:
                self.warnings.append({
                    "code": "duplicate_column", "column": text,
                    "message": f"Kolom '{text}' (kolom ke-{position}) mengulang kolom {target}; "
                               "yang dipakai kolom pertama."})
                target = None
            if target:
                seen.add(target)
            self.targets.append(target)
        if fields.known and "region" not in seen:
            self.warnings.append({"code": "missing_column", "column": "region",
                                  "message": "Kolom region (kode atau nama wilayah) tidak ada."})

    def row(self, cells: list[Any]) -> dict[str, Any]:
        return {t: c for t, c in zip(self.targets, cells) if t is not None}


LINE = "_line"  # where the row starts, as people see it; mapped field names never start with _


class RowSource:
    """Iterate to get mapped rows, each with ``_line``; ``warnings`` is filled once the header
    has been read, ``sheet`` once an XLSX sheet is open."""

    kind = "json"

    def __init__(self, fields: FieldSet, limits: Limits | None = None):
        self.fields = fields
        self.limits = limits or Limits()
        self.warnings: list[dict] = []
        self.sheet: str | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        raise NotImplementedError


class JsonRows(RowSource):
    def __init__(self, rows: list[Any], fields: FieldSet, kind: str = "json",
                 limits: Limits | None = None):
        super().__init__(fields, limits)
        self.rows = rows
        self.kind = kind

    def __iter__(self):
        warned: set[str] = set()
        for index, raw in enumerate(self.rows):
            if not isinstance(raw, dict):
                raise Unprocessable(
                    f"Baris ke-{index} bukan objek JSON.", code="malformed_json",
                    details=[{"index": index, "message": "setiap baris harus berupa objek"}])
            if len(raw) > self.limits.max_columns:
                raise too_many_columns(len(raw), self.limits.max_columns,
                                       f"Baris JSON ke-{index}")
            row = {}
            for key, value in raw.items():
                target = self.fields.target(key)
                if target is None or target in row:
                    if key not in warned:
                        warned.add(key)
                        self.warnings.append(_warn_unknown(key, self.fields))
                    continue
                row[target] = value
            check_cells(row, {"index": index}, self.limits)
            yield row  # no "_line": a JSON row's line is its 1-based position, index + 1


def sniff_encoding(path: Path) -> str:
    """UTF-16 when the file starts with its byte-order mark (Excel's "Unicode text"), UTF-8
    when every byte of it is valid UTF-8 (checked incrementally, the whole file), else cp1252,
    which Excel on Windows writes and which reads Latin-1's letters the same, else Latin-1
    (any byte is a character)."""
    import codecs

    with open(path, "rb") as fh:
        head = fh.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := fh.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            while block := fh.read(1 << 20):
                decoder.decode(block)
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


DELIMITERS = (",", ";", "\t", "|")


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first records into the most columns, the same number in
    each: Excel set to Indonesian writes ';' because ',' is its decimal mark, so a data row
    such as '64.08.04.2001;2024;2,5' must not be read as split at the comma. An Excel
    'sep=;' first line names it outright."""
    first = sample.lstrip("\ufeff").split("\n", 1)[0].strip()
    if first.lower().startswith("sep=") and len(first) == 5:
        return first[4]
    best, best_score = ",", (False, 0)
    for delimiter in DELIMITERS:
        widths = []
        try:
            for cells in csv.reader(io.StringIO(sample), delimiter=delimiter):
                if any(c.strip() for c in cells):
                    widths.append(len(cells))
                if len(widths) >= 5:
                    break
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (all(w == widths[0] for w in widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _bad_column(line: str, delimiter: str) -> int | None:
    """Best guess at the 1-based column of a quoting error in one physical line."""
    for position, cell in enumerate(line.split(delimiter), start=1):
        stripped = cell.strip()
        if '"' in stripped and not (stripped.startswith('"') and stripped.endswith('"')
                                    and len(stripped) > 1):
            return position
    return None


class CsvRows(RowSource):
    kind = "csv"

    def __init__(self, path: Path, fields: FieldSet, limits: Limits | None = None):
        super().__init__(fields, limits)
        self.path = path

    def __iter__(self):
        encoding = sniff_encoding(self.path)
        with open(self.path, newline="", encoding=encoding, errors="replace") as fh:
            delimiter = _sniff_delimiter(fh.read(1 << 16))
        with open(self.path, newline="", encoding=encoding) as fh:
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            header: HeaderMap | None = None
            width = 0
            while True:
                start = reader.line_num + 1  # a record may span lines (quoted newlines)
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise self._malformed(reader.line_num, exc, delimiter) from exc
                except UnicodeDecodeError as exc:  # a UTF-16 file cut in the middle
                    raise Unprocessable(
                        f"Berkas CSV tidak dapat dibaca sebagai {encoding} di sekitar baris "
                        f"{reader.line_num + 1}; simpan ulang sebagai CSV UTF-8.",
                        code="malformed_csv",
                        details=[{"line": reader.line_num + 1, "column": None,
                                  "message": str(exc)}]) from exc
                if not any(c.strip() for c in cells):
                    continue
                if header is None and delimiter.join(cells).strip().lower() == \
                        f"sep={delimiter}":
                    continue  # Excel's delimiter line, not the header
                if header is None:
                    header = HeaderMap(cells, self.fields, self.limits.max_columns)
                    self.warnings.extend(header.warnings)
                    width = len(cells)
                    continue
                if len(cells) > width and any(c.strip() for c in cells[width:]):
                    raise Unprocessable(
                        f"Baris {reader.line_num} berisi {len(cells)} kolom, padahal judul kolom "
                        f"hanya {width}.", code="malformed_csv",
                        details=[{"line": reader.line_num, "column": width + 1,
                                  "message": "kolom lebih banyak dari judul"}])
                row = header.row([c.strip() or None for c in cells])
                check_cells(row, {"line": start}, self.limits)
                row[LINE] = start
                yield row

    def _malformed(self, line_no: int, exc: Exception, delimiter: str) -> Unprocessable:
        column = None
        try:
            with open(self.path, encoding="utf-8-sig", errors="replace") as fh:
                for number, text in enumerate(fh, start=1):
                    if number == line_no:
                        column = _bad_column(text, delimiter)
                        break
        except OSError:
            pass
        return Unprocessable(
            f"Berkas CSV rusak di baris {line_no}"
            + (f", kolom {column}" if column else "") + f": {exc}.",
            code="malformed_csv",
            details=[{"line": line_no, "column": column, "message": str(exc)}])


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class XlsxRows(RowSource):
    kind = "xlsx"

    def __init__(self, path: Path, fields: FieldSet, max_decompressed: int,
                 limits: Limits | None = None, max_rows: int = 200_000,
                 max_cells: int = 3_000_000):
        super().__init__(fields, limits)
        self.path = path
        self.max_decompressed = max_decompressed
        self.max_rows, self.max_cells = max_rows, max_cells

    def __iter__(self):
        from python_calamine import CalamineWorkbook

        check_zip_expansion(self.path, self.max_decompressed)
        check_sheet(self.path, max_rows=self.max_rows, max_columns=self.limits.max_columns,
                    max_cells=self.max_cells)  # before the reader allocates the used range
        try:
            workbook = CalamineWorkbook.from_path(str(self.path))
            sheet = workbook.get_sheet_by_index(0)
            self.sheet = sheet.name
            rows = sheet.iter_rows()
        except Exception as exc:  # noqa: BLE001 - calamine raises its own error types
            raise Unprocessable("Berkas XLSX tidak dapat dibaca.", code="malformed_xlsx",
                                details=[{"line": None, "column": None, "message": str(exc)}]
                                ) from exc
        header: HeaderMap | None = None
        width = 0
        for line, raw in enumerate(rows, start=1):
            cells = [_cell(v) for v in raw]
            if not any(c is not None for c in cells):
                continue
            if header is None:
                while cells and cells[-1] is None:
                    cells.pop()
                header = HeaderMap(cells, self.fields, self.limits.max_columns)
                self.warnings.extend(header.warnings)
                width = len(cells)
                continue
            extra = [i for i, c in enumerate(cells[width:], start=width + 1) if c is not None]
            if extra:
                raise Unprocessable(
                    f"Baris {line} berisi nilai di kolom {_column_letter(extra[0])} yang tidak "
                    "berjudul.", code="malformed_xlsx",
                    details=[{"line": line, "column": extra[0],
                              "message": "nilai di luar kolom berjudul"}])
            row = header.row(cells)
            check_cells(row, {"line": line}, self.limits)
            row[LINE] = line
            yield row
