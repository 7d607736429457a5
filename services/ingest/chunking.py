"""Numbering rows into chunks (bounded by rows and bytes) and fingerprinting a submission.

Pure and synchronous. Each chunk becomes one ``SubmissionChunkV1`` message, so a chunk's rows
must stay well under NATS's 1 MB payload limit; the fingerprint tells an idempotent retry (same
rows) from a reused key (different rows), whatever format the rows came in.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

from shared.errors import PayloadTooLarge


def _default(value: Any) -> str:
    return str(value)


class Chunker:
    def __init__(self, dataset: str, *, chunk_rows: int, chunk_bytes: int, max_rows: int):
        self.chunk_rows = chunk_rows
        self.chunk_bytes = chunk_bytes
        self.max_rows = max_rows
        self.rows = 0
        self.chunk = 0
        self._in_chunk = 0
        self._bytes = 0
        self._hash = hashlib.sha256(dataset.encode())

    def add(self, row: dict[str, Any]) -> tuple[int, int, str]:
        """(index, chunk, row as JSON) for the next row."""
        if self.rows >= self.max_rows:
            raise too_many_rows(self.max_rows)
        text = json.dumps(row, ensure_ascii=False, default=_default, sort_keys=True)
        size = len(text.encode())
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


def check_row_count(kind: str, rows: list | None, path, max_rows: int) -> None:
    """Count the rows before any is parsed or stored, so a submission over the cap is refused
    in a moment rather than after parsing and COPY. CSV records are counted by the csv module
    (quoted line breaks stay inside their record); XLSX is counted while it is read."""
    if kind in ("json", "ckan"):
        count = len(rows or [])
    elif kind == "csv" and path is not None:
        import csv

        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            count = -1  # the header
            for count, _ in enumerate(csv.reader(handle), start=0):
                if count > max_rows:
                    break
    else:
        return
    if count > max_rows:
        raise too_many_rows(max_rows)
