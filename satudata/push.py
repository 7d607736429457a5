"""`satudata push FILE --dataset SLUG`: upload a CSV/XLSX/JSON file and show its import summary.

The lead mounts it with ``app.command()(push)``. Uploads show a progress bar, are retried with
the same ``Idempotency-Key`` (so a retry never creates a second submission), and the status is
polled until the registry has summarised every chunk. ``--dry-run`` validates through the
registry and stores nothing. The exit code tells the truth: 0 only when every row was taken,
1 when the submission was refused, failed, or any row was rejected (the count is printed),
2 for a usage error. Everything a village operator reads is in Bahasa Indonesia.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)
from rich.table import Table
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

console = Console()

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json",
}
DONE = ("completed", "partial", "failed")
COUNTS = {"created": "baru", "updated": "diperbarui", "unchanged": "tidak berubah",
          "conflicts": "konflik", "rejected": "ditolak"}
STATUSES = {"received": "diterima", "processing": "diproses", "completed": "selesai",
            "partial": "sebagian gagal", "failed": "gagal", "dry_run": "uji coba (tidak disimpan)"}
RETRY_STOP = stop_after_attempt(5)
RETRY_WAIT = wait_exponential(multiplier=0.5, max=8)


class _Retryable(Exception):
    """A transport failure or a 5xx/429 answer: worth another try with the same key."""


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, (_Retryable, httpx.TransportError))


class _ProgressFile:
    """A file whose reads advance a rich progress bar (httpx reads uploads in pieces)."""

    def __init__(self, path: Path, progress: Progress, task):
        self._fh = open(path, "rb")
        self._progress = progress
        self._task = task

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._progress.update(self._task, advance=len(data))
        return data

    def close(self) -> None:
        self._fh.close()


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        details = "; ".join(json.dumps(d, ensure_ascii=False) for d in error.get("details", [])[:5])
        return f"{error['message']} ({error['code']})" + (f"\n{details}" if details else "")
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:300]}"


def _upload(client: httpx.Client, file: Path, dataset: str, idempotency_key: str,
            dry_run: bool = False) -> dict[str, Any]:
    headers = {"Idempotency-Key": idempotency_key}
    params = {"dry_run": "true"} if dry_run else None
    ctype = CONTENT_TYPES.get(file.suffix.lower())
    if ctype is None:
        raise typer.BadParameter("berkas harus .csv, .xlsx atau .json")

    @retry(retry=retry_if_exception(_is_retryable), stop=RETRY_STOP, wait=RETRY_WAIT,
           reraise=True)
    def attempt() -> httpx.Response:
        with Progress(TextColumn("[bold]Mengunggah[/] " + file.name), BarColumn(),
                      DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("upload", total=file.stat().st_size)
            body = _ProgressFile(file, progress, task)
            try:
                if ctype == "application/json":
                    payload = json.loads(body.read())
                    if isinstance(payload, list):
                        payload = {"dataset": dataset, "rows": payload}
                    payload.setdefault("dataset", dataset)
                    response = client.post("/v1/submissions", json=payload, headers=headers,
                                           params=params)
                else:
                    response = client.post("/v1/submissions", data={"dataset": dataset},
                                           files={"file": (file.name, body, ctype)},
                                           headers=headers, params=params)
            finally:
                body.close()
        if response.status_code >= 500 or response.status_code == 429:
            console.print(f"[yellow]Server menjawab {response.status_code}; mencoba lagi…[/]")
            raise _Retryable(_error_text(response))
        return response

    response = attempt()
    if response.status_code >= 400:
        console.print(f"[red]Kiriman ditolak:[/] {_error_text(response)}")
        raise typer.Exit(1)
    return response.json()


def _poll(client: httpx.Client, status_url: str, timeout: float = 3600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with console.status("Menunggu registry memproses kiriman…") as status:
        while True:
            response = client.get(status_url)
            if response.status_code >= 400:
                console.print(f"[red]Status tidak dapat dibaca:[/] {_error_text(response)}")
                raise typer.Exit(1)
            body = response.json()
            status.update(f"Status: {body['status']} ({body['chunks_processed']}/"
                          f"{body['chunks']} bagian)")
            if body["status"] in DONE or time.monotonic() > deadline:
                return body
            time.sleep(1.0)


def _summary_table(body: dict[str, Any]) -> Table:
    title = (f"Hasil uji coba ({body['dataset']}, {body['rows']} baris)" if body.get("dry_run")
             else f"Ringkasan impor {body['id']} ({body['dataset']})")
    table = Table(title=title)
    table.add_column("status")
    for label in COUNTS.values():
        table.add_column(label, justify="right")
    counts = body["counts"]
    status = "dry_run" if body.get("dry_run") else body["status"]
    table.add_row(STATUSES.get(status, status), *(str(counts.get(k, 0)) for k in COUNTS))
    return table


def _rejected_count(body: dict[str, Any]) -> int:
    """Rows rejected (a row with two bad fields counts once)."""
    listed = len({r.get("index") for r in body.get("rejected_rows") or []})
    return max(int((body.get("counts") or {}).get("rejected") or 0), listed)


def _rejected_table(rows: list[dict], limit: int = 50) -> Table:
    table = Table(title=f"Baris ditolak (paling banyak {limit} ditampilkan)")
    for column in ("baris", "kolom", "kode", "pesan"):
        table.add_column(column)
    for row in rows[:limit]:
        line = row.get("line") or row["index"] + 1  # the line an editor shows (header = 1)
        where = f"{row['sheet']}!{line}" if row.get("sheet") else str(line)
        table.add_row(where, row.get("field") or "", row["code"], row["message"])
    return table


def push(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="berkas .csv, .xlsx atau .json")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="slug dataset")],
    key: Annotated[str | None, typer.Option("--key", envvar="SATUDATA_KEY",
                                            help="kunci API (atau env SATUDATA_KEY)")] = None,
    url: Annotated[str, typer.Option("--url", envvar="SATUDATA_URL",
                                     help="alamat gateway")] = "http://localhost:8000",
    wait: Annotated[bool, typer.Option("--wait/--no-wait",
                                       help="tunggu sampai selesai diproses")] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run",
                                          help="periksa saja lewat registry; tidak ada yang "
                                               "disimpan")] = False,
) -> None:
    """Kirim berkas data ke Satu Data dan tampilkan ringkasan impornya.

    Keluar dengan kode 0 hanya bila semua baris diterima; 1 bila kiriman ditolak, gagal
    diproses, atau ada baris yang ditolak; 2 bila perintahnya salah."""
    if not key:
        console.print("[red]Kunci API diperlukan:[/] --key atau env SATUDATA_KEY.")
        raise typer.Exit(2)
    idempotency_key = str(uuid.uuid4())
    with httpx.Client(base_url=url.rstrip("/"), timeout=httpx.Timeout(30, read=600),
                      headers={"Authorization": f"Bearer {key}"}) as client:
        try:
            accepted = _upload(client, file, dataset, idempotency_key, dry_run)
        except (_Retryable, httpx.TransportError) as exc:
            console.print(f"[red]Gagal mengirim setelah beberapa kali mencoba:[/] {exc}")
            raise typer.Exit(1) from exc
        if dry_run:
            _report(accepted)
            return
        console.print(f"[green]Diterima[/] {accepted['rows']} baris sebagai kiriman "
                      f"{accepted['id']} ({accepted['chunks']} bagian).")
        for warning in accepted.get("warnings", []):
            console.print(f"[yellow]Peringatan:[/] {warning['message']}")
        if not wait:
            console.print(f"Status: {url.rstrip('/')}{accepted['status_url']}")
            return
        body = _poll(client, accepted["status_url"])
    _report(body)


def _report(body: dict[str, Any]) -> None:
    """The summary and rejected rows; exit 1 when the submission failed or any row was
    rejected (a script or scheduler must not take a partial import for a clean one)."""
    for warning in body.get("warnings", []) if body.get("dry_run") else []:
        console.print(f"[yellow]Peringatan:[/] {warning['message']}")
    console.print(_summary_table(body))
    if body.get("rejected_rows"):
        console.print(_rejected_table(body["rejected_rows"]))
    if body.get("status") in ("failed", "partial"):
        console.print(f"[red]Kiriman gagal diproses:[/] {body.get('error')}")
        raise typer.Exit(1)
    if body.get("status") not in (None, *DONE):
        console.print("[yellow]Kiriman belum selesai diproses dalam batas waktu.[/]")
        raise typer.Exit(1)
    rejected = _rejected_count(body)
    if rejected:
        what = "akan ditolak" if body.get("dry_run") else "ditolak"
        console.print(f"[red]{rejected} dari {body.get('rows', '?')} baris {what}.[/] Perbaiki "
                      "baris yang disebut lalu kirim ulang.")
        raise typer.Exit(1)
    if body.get("dry_run"):
        console.print("[green]Semua baris lolos pemeriksaan.[/] Tidak ada yang disimpan; "
                      "kirim tanpa --dry-run untuk menyimpan.")
