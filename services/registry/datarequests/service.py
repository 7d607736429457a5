"""Data requests (permohonan data): a citizen asks for data that is not published; the request
gets a number and a public status, and the walidata answers (publishing a dataset or pointing
at one), refuses with a reason, or extends once. UU No. 14 Tahun 2008, Pasal 22 ayat (7) and
(8): the answer is due within 10 working days of receipt, extendable once by 7 working days
with written notice; late requests are flagged. The contact is kept as for a citizen's report
on a figure, then deleted."""

from __future__ import annotations

import asyncpg

from services.registry.audit import service as audit
from services.registry.datarequests import store
from services.registry.datarequests.workdays import ANSWER_DAYS, EXTENSION_DAYS, add_working_days
from services.registry.datasets import service as datasets
from services.registry.feedback.service import FeedbackSettings
from shared import clock
from shared.auth import Principal
from shared.errors import Conflict, NotFound, Unprocessable

OPEN = ("diajukan", "diperpanjang")


def _shown(row: dict, reader: Principal | None) -> dict:
    due = row["extended_due_on"] or row["due_on"]
    out = {k: row[k] for k in ("number", "subject", "purpose", "status", "received_on",
                               "extension_notice", "answer", "decided_at", "created_at")}
    out |= {"due_on": due, "extended": row["extended_due_on"] is not None,
            "late": row["status"] in OPEN and clock.today_wita() > due,
            "dataset": row["dataset_slug"]}
    if reader is not None and reader.is_steward:
        out |= {k: row[k] for k in ("contact", "contact_deleted_at")}
    return out


async def _leave(conn: asyncpg.Connection) -> set:
    return {d["day"] for d in await store.leave_days(conn)}


async def submit(conn: asyncpg.Connection, body: dict) -> dict:
    received = clock.today_wita()
    due = add_working_days(received, ANSWER_DAYS, await _leave(conn))
    await store.forget_contacts(conn, FeedbackSettings().report_contact_days)
    row = await store.insert(conn, subject=body["subject"].strip(),
                             purpose=(body["purpose"] or "").strip() or None,
                             contact=(body["contact"] or "").strip() or None,
                             received_on=received, due_on=due)
    return _shown(row, None)


async def listed(conn: asyncpg.Connection, reader: Principal | None, status: str | None,
                 limit: int) -> dict:
    return {"items": [_shown(r, reader) for r in await store.listed(conn, status, limit)]}


async def show(conn: asyncpg.Connection, reader: Principal | None, number: str) -> dict:
    return _shown(await _get(conn, number), reader)


async def _get(conn: asyncpg.Connection, number: str, *, lock: bool = False) -> dict:
    row = await store.get(conn, number, lock=lock)
    if row is None:
        raise NotFound(f"Permohonan {number} tidak ada.", code="request_not_found")
    return row


async def extend(conn: asyncpg.Connection, steward: Principal, number: str,
                 notice: str) -> dict:
    row = await _get(conn, number, lock=True)
    if row["status"] != "diajukan":
        raise Conflict("Permohonan hanya dapat diperpanjang sekali, sebelum dijawab.",
                       code="request_not_extendable")
    due = add_working_days(row["due_on"], EXTENSION_DAYS, await _leave(conn))
    await store.extend(conn, number, due, notice.strip())
    await audit.record(conn, steward, "data_request.extend", number, {"due_on": str(due)})
    return _shown(await _get(conn, number), steward)


async def decide(conn: asyncpg.Connection, steward: Principal, number: str, *, status: str,
                 answer: str, dataset: str | None = None) -> dict:
    """Answer (``dijawab``, optionally naming the dataset published) or refuse (``ditolak``,
    with the reason)."""
    row = await _get(conn, number, lock=True)
    if row["status"] not in OPEN:
        raise Conflict(f"Permohonan {number} sudah {row['status']}.", code="request_decided")
    if dataset and await datasets.get_dataset_row(conn, dataset) is None:
        raise Unprocessable(f"Dataset '{dataset}' tidak ada.", code="dataset_not_found")
    await store.decide(conn, number, status=status, answer=answer.strip(), dataset_slug=dataset,
                       by=steward.publisher_id)
    await audit.record(conn, steward, f"data_request.{'answer' if status == 'dijawab' else 'refuse'}",
                       number, {"dataset": dataset})
    await store.forget_contacts(conn, FeedbackSettings().report_contact_days)
    return _shown(await _get(conn, number), steward)


async def leave(conn: asyncpg.Connection, year: int | None) -> dict:
    return {"year": year, "days": await store.leave_days(conn, year)}


async def set_leave(conn: asyncpg.Connection, steward: Principal, year: int,
                    days: list[dict]) -> dict:
    wrong = [str(d["day"]) for d in days if d["day"].year != year]
    if wrong:
        raise Unprocessable(f"Tanggal {', '.join(wrong)} bukan tahun {year}.",
                            code="leave_wrong_year")
    await store.replace_leave(conn, year, days, steward.publisher_id)
    await audit.record(conn, steward, "collective_leave.set", str(year),
                       {"days": [str(d["day"]) for d in days]})
    return await leave(conn, year)
