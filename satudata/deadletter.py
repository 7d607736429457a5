"""`satudata deadletter list|replay`: see what could never be applied, and send it again.

Dead letters live in the ``DEADLETTER`` JetStream stream, one ``DeadLetterV1`` per refused
message, with the consumer, the original subject, the reason and the original envelope. A replay
publishes the original envelope again on its subject (under a new ``Nats-Msg-Id``, since the
first one may still be inside the duplicate window) and removes the dead letter. Consumers stay
idempotent, and the registry applies a submission chunk once per (submission, chunk), so a
replayed chunk is applied once however often it is replayed.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated

import typer
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from rich.console import Console
from rich.table import Table

from shared import bus
from shared.contracts import DeadLetterV1, Envelope

app = typer.Typer(help="Pesan yang tidak pernah bisa diproses (DEADLETTER): lihat dan kirim ulang.",
                  no_args_is_help=True)

NatsOpt = Annotated[str | None, typer.Option(
    help="NATS URL (default: NATS_URL or nats://127.0.0.1:4222)")]
NamespaceOpt = Annotated[str | None, typer.Option(
    help="subject/stream prefix (default: NATS_NAMESPACE, normally empty)")]


async def letters(js: JetStreamContext, ns: bus.Namespace) -> list[dict]:
    """Every dead letter still kept, oldest first: ``{"id", "consumer", "subject", "reason",
    "event_id", "summary"}`` (``id`` is its sequence in the stream)."""
    stream = ns.stream("DEADLETTER")
    info = await js.stream_info(stream)
    out = []
    if info.state.messages == 0:
        return out
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await js.get_msg(stream, seq)
        except NotFoundError:
            continue  # replayed (deleted) already
        out.append({"id": seq, **_describe(Envelope.model_validate_json(raw.data)
                                           .open(DeadLetterV1))})
    return out


def _describe(letter: DeadLetterV1) -> dict:
    try:
        original = Envelope.model_validate_json(letter.payload)
        data = original.data
        summary = ", ".join(f"{k}={data[k]}" for k in ("submission_id", "chunk", "dataset")
                            if k in data)
        event_id = str(original.event_id)
    except ValueError:
        summary, event_id = "(bukan envelope)", None
    return {"consumer": letter.consumer, "subject": letter.original_subject,
            "reason": letter.reason, "event_id": event_id, "summary": summary}


async def replay(js: JetStreamContext, ns: bus.Namespace, seq: int) -> dict:
    """Publish dead letter ``seq``'s original message again, then delete the dead letter."""
    stream = ns.stream("DEADLETTER")
    raw = await js.get_msg(stream, seq)
    letter = Envelope.model_validate_json(raw.data).open(DeadLetterV1)
    original = Envelope.model_validate_json(letter.payload)  # a non-envelope cannot be replayed
    headers = {"Nats-Msg-Id": f"replay:{stream}:{seq}"}
    if original.request_id:
        headers["X-Request-ID"] = original.request_id
    await js.publish(ns.subject(letter.original_subject), letter.payload.encode(),
                     headers=headers, timeout=5.0)
    await js.delete_msg(stream, seq)
    return {"id": seq, **_describe(letter)}


async def _with_js(nats_url: str | None, namespace: str | None, work):
    nc = await bus.connect(nats_url or os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
                           "satudata-deadletter")
    try:
        js = nc.jetstream()
        ns = bus.Namespace(namespace if namespace is not None
                           else os.environ.get("NATS_NAMESPACE", ""))
        await bus.ensure_streams(js, ns)
        return await work(js, ns)
    finally:
        await nc.close()


@app.command("list")
def list_cmd(nats_url: NatsOpt = None, namespace: NamespaceOpt = None,
             as_json: Annotated[bool, typer.Option("--json", help="one JSON object a line")]
             = False) -> None:
    """Dead letters still kept, oldest first, with the reason each was refused."""
    found = asyncio.run(_with_js(nats_url, namespace, letters))
    if as_json:
        for item in found:
            typer.echo(json.dumps(item, ensure_ascii=False))
        return
    console = Console()
    if not found:
        console.print("Tidak ada pesan di DEADLETTER.")
        return
    table = Table("ID", "Consumer", "Subject", "Isi", "Alasan")
    for item in found:
        table.add_row(str(item["id"]), item["consumer"], item["subject"], item["summary"],
                      item["reason"])
    console.print(table)


@app.command("replay")
def replay_cmd(
    id: Annotated[int | None, typer.Argument(help="ID from `satudata deadletter list`")] = None,
    all_: Annotated[bool, typer.Option("--all", help="replay every dead letter")] = False,
    nats_url: NatsOpt = None, namespace: NamespaceOpt = None,
) -> None:
    """Send a dead letter's original message again (after fixing its cause); it is applied
    once, however often it is replayed."""
    if (id is None) == (not all_):
        raise typer.BadParameter("sebutkan satu ID atau --all")

    async def work(js, ns):
        ids = [item["id"] for item in await letters(js, ns)] if all_ else [id]
        return [await replay(js, ns, seq) for seq in ids]

    try:
        done = asyncio.run(_with_js(nats_url, namespace, work))
    except NotFoundError:
        typer.echo(f"Pesan DEADLETTER {id} tidak ada.", err=True)
        raise typer.Exit(1) from None
    for item in done:
        typer.echo(f"dikirim ulang: {item['id']} {item['subject']} {item['summary']}")
    typer.echo(f"{len(done)} pesan dikirim ulang.")
