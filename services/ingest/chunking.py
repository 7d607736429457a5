"""Numbering rows into chunks (bounded by rows and bytes) and fingerprinting a submission.

Pure and synchronous. Each chunk becomes one ``SubmissionChunkV1`` message, so a chunk's rows
must stay well under NATS's 1 MB payload limit; the fingerprint tells an idempotent retry (same
rows) from a reused key (different rows), whatever format the rows came in.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterator

from shared.errors import PayloadTooLarge


def _default(value: Any) -> str:
    return str(value)


class Chunker:
    def __init__(self, dataset: str, *, chunk_rows: int, chunk_bytes: int, max_rows: int,
                 locale: str = "id"):
        self.chunk_rows = chunk_rows
        self.chunk_bytes = chunk_bytes
        self.max_rows = max_rows
        self.rows = 0
        self.chunk = 0
        self._in_chunk = 0
        self._bytes = 0
        self._hash = hashlib.sha256(dataset.encode())
        self._hash.update(f"\x00{locale}".encode())  # the same text means other numbers

    def add(self, row: dict[str, Any]) -> tuple[int, int, str]:
        """(index, chunk, row as JSON) for the next row."""
        if self.rows >= self.max_rows:
            raise too_many_rows(self.max_rows)
        text = json.dumps(row, ensure_ascii=False, default=_default, sort_keys=True)
        size = len(text.encode())
        if size > self.chunk_bytes:  # a row that could never travel in a chunk message
            raise PayloadTooLarge(
                f"Baris {row.get('_line') or self.rows + 1} terlalu besar ({size} byte; paling "
                f"besar {self.chunk_bytes} byte per baris). Periksa isian yang sangat panjang.",
                code="row_too_large", details=[{"line": row.get("_line") or self.rows + 1,
                                                "bytes": size, "max_bytes": self.chunk_bytes}])
        if self._in_chunk and (self._in_chunk >= self.chunk_rows
                               or self._bytes + size > self.chunk_bytes):
            self.chunk += 1
            self._in_chunk = 0
            self._bytes = 0
        self._in_chunk += 1
        self._bytes += size + 1
        self._hash.update(text.encode())
        self._hash.update(b"\n")
        index = self.rows
        self.rows += 1
        return index, self.chunk, text

    @property
    def chunks(self) -> int:
        return self.chunk + 1 if self.rows else 0

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()


def next_batch(rows: Iterator[dict[str, Any]], chunker: Chunker, size: int
               ) -> list[tuple[int, int, str]]:
    """Up to ``size`` encoded rows; an empty list when the source is exhausted."""
    out = []
    for row in rows:
        out.append(chunker.add(row))
        if len(out) >= size:
            break
    return out


def too_many_rows(max_rows: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Terlalu banyak baris: paling banyak {max_rows} baris per kiriman; "
        "bagi berkas menjadi beberapa kiriman.", code="too_many_rows",
        details=[{"max_rows": max_rows}])


# kinds whose rows arrive as JSON objects: the API's own, the CKAN door's and the OpenSID
# door's counts (recorded as the submission's ``source``, so each door's syncs can be listed)
ROW_KINDS = ("json", "ckan", "opensid")


def check_row_count(kind: str, rows: list | None, path, max_rows: int,
                    max_columns: int = 100) -> None:
    """Count the rows before any is parsed or stored, so a submission over the cap is refused
    in a moment rather than after parsing and COPY. CSV records are counted by the csv module
    (quoted line breaks stay inside their record), once its header is known not to be too
    wide; XLSX is measured from its XML when it is read."""
    if kind in ROW_KINDS:
        count = len(rows or [])
    elif kind == "csv" and path is not None:
        import csv

        from services.ingest.limits import check_csv_header
        from services.ingest.parsing import sniff_encoding

        check_csv_header(path, max_columns)
        with open(path, newline="", encoding=sniff_encoding(path), errors="replace") as handle:
            count = -1  # the header
            try:
                for count, _ in enumerate(csv.reader(handle), start=0):
                    if count > max_rows:
                        break
            except csv.Error:
                return  # malformed: the parser names the line when it reads it
    else:
        return
    if count > max_rows:
        raise too_many_rows(max_rows)


def _words(value: Any) -> str:
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", str(value).upper()).split())


def _region_key(value: Any) -> str:
    text = str(value).strip()
    if re.fullmatch(r"[0-9][0-9.\s\-/]*", text):
        return "code:" + re.sub(r"\D", "", text)
    return "name:" + _words(text)


class KeyTracker:
    """Rows of one submission whose key (region, period, dimensions) is written the same way,
    however far apart they are; the registry, which resolves regions, also catches rows
    written differently within one chunk. Only sure matches count here: equal words, or equal
    digits of a code, always resolve to the same region."""

    MAX_REGION_CELLS = 10_000  # distinct spellings sent to the registry to resolve

    def __init__(self, dimensions: list[str] | None):
        self.dimensions = dimensions
        self.seen: dict[tuple, list[tuple[int, int]]] = {}
        self.cells: dict[str, str] = {}  # region key -> the cell as first written
        self.index = 0

    def add(self, row: dict[str, Any]) -> None:
        index, self.index = self.index, self.index + 1
        if self.dimensions is None or not row.get("region") or not row.get("period"):
            return
        region = _region_key(row["region"])
        self.cells.setdefault(region, str(row["region"]).strip())
        key = (region, _words(row["period"]),
               *(_words(row.get(d) or "") for d in self.dimensions))
        self.seen.setdefault(key, []).append((index, row.get("_line") or index + 1))

    def region_cells(self) -> list[str]:
        """The distinct region cells, when there is more than one way they were written and
        few enough to resolve in one request; else []."""
        if 1 < len(self.cells) <= self.MAX_REGION_CELLS:
            return list(self.cells.values())
        return []

    def resolve_with(self, codes: dict[str, str | None]) -> None:
        """Regroup keys by the region each cell resolves to ('6408042001' and 'Desa Sangatta
        Utara' are one place); cells the registry refused keep their written form."""
        merged: dict[tuple, list[tuple[int, int]]] = {}
        for key, members in self.seen.items():
            code = codes.get(self.cells.get(key[0], ""))
            region = f"resolved:{code}" if code else key[0]
            merged.setdefault((region, *key[1:]), []).extend(members)
        self.seen = {k: sorted(v) for k, v in merged.items()}

    def duplicates(self, shown: int = 5) -> dict[int, list[int]]:
        """index -> the lines of (at most ``shown``) other rows with its key."""
        out: dict[int, list[int]] = {}
        for members in self.seen.values():
            if len(members) > 1:
                first = members[:shown + 1]
                for index, _ in members:
                    out[index] = [line for i, line in first if i != index][:shown]
        return out

    def duplicates_json(self) -> str | None:
        """``duplicates`` as the JSON object ingest stores ({"index": [lines]}), or None."""
        found = self.duplicates()
        return json.dumps({str(k): v for k, v in found.items()}) if found else None


def tracked(rows: Iterator[dict[str, Any]], tracker: KeyTracker) -> Iterator[dict[str, Any]]:
    for row in rows:
        tracker.add(row)
        yield row
