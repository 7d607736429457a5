"""SQL for data requests and collective leave days. Functions never commit (the caller owns
the transaction)."""

from __future__ import annotations

from datetime import date

import asyncpg

COLUMNS = ("number, subject, purpose, contact, status, received_on, due_on, extended_due_on, "
           "extension_notice, answer, dataset_slug, decided_by, decided_at, contact_deleted_at, "
           "created_at")


async def insert(conn: asyncpg.Connection, *, subject: str, purpose: str | None,
                 contact: str | None, received_on: date, due_on: date) -> dict:
    new_id = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('data_requests', 'id'))")
    number = f"PD-{received_on.year}-{new_id:05d}"
    row = await conn.fetchrow(
        f"""INSERT INTO data_requests (id, number, subject, purpose, contact, received_on,
                                       due_on)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}""",
        new_id, number, subject, purpose, contact, received_on, due_on)
    return dict(row)


async def get(conn: asyncpg.Connection, number: str, *, lock: bool = False) -> dict | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM data_requests WHERE number = $1"
                              + (" FOR UPDATE" if lock else ""), number)
    return dict(row) if row else None


async def listed(conn: asyncpg.Connection, status: str | None, limit: int) -> list[dict]:
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM data_requests WHERE ($1::text IS NULL OR status = $1)
            ORDER BY created_at DESC, id DESC LIMIT $2""", status, limit)
    return [dict(r) for r in rows]


async def extend(conn: asyncpg.Connection, number: str, due: date, notice: str) -> None:
    await conn.execute(
        "UPDATE data_requests SET status = 'diperpanjang', extended_due_on = $2, "
        "extension_notice = $3 WHERE number = $1", number, due, notice)


async def decide(conn: asyncpg.Connection, number: str, *, status: str, answer: str,
                 dataset_slug: str | None, by: str) -> None:
    await conn.execute(
        "UPDATE data_requests SET status = $2, answer = $3, dataset_slug = $4, decided_by = $5, "
        "decided_at = now() WHERE number = $1", number, status, answer, dataset_slug, by)


async def forget_contacts(conn: asyncpg.Connection, days: int) -> int:
    done = await conn.execute(
        """UPDATE data_requests SET contact = NULL, contact_deleted_at = now()
           WHERE contact IS NOT NULL AND status IN ('dijawab', 'ditolak')
             AND decided_at < now() - make_interval(days => $1)""", days)
    return int(done.split()[-1])


async def leave_days(conn: asyncpg.Connection, year: int | None = None) -> list[dict]:
    rows = await conn.fetch(
        "SELECT day, note FROM collective_leave WHERE $1::int IS NULL "
        "OR extract(year FROM day) = $1 ORDER BY day", year)
    return [dict(r) for r in rows]


async def replace_leave(conn: asyncpg.Connection, year: int, days: list[dict], by: str) -> None:
    await conn.execute("DELETE FROM collective_leave WHERE extract(year FROM day) = $1", year)
    await conn.executemany(
        "INSERT INTO collective_leave (day, note, entered_by) VALUES ($1, $2, $3)",
        [(d["day"], d.get("note"), by) for d in days])
