"""The ``satudata`` command: run, migrate, seed and feed the platform.

Typer gives us --help for every command from the docstrings and type hints.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import typer

from satudata import deadletter, ownership, platform, receipt
from satudata.backup import backup, restore
from satudata.push import push
from satudata.reindex import reindex
from satudata.status import status, write_service_urls
from satudata.verify import verify

app = typer.Typer(help="Satu Data: one source of truth for Kabupaten Kutai Timur's public data.",
                  no_args_is_help=True, add_completion=False)


def _say(text: str) -> None:
    typer.echo(f"satudata | {text}")


def _claim_home(state) -> ownership.HomeLock:
    """This data folder's one platform: refuse (exit 1, naming it) if one runs already."""
    lock = ownership.claim_home(state, kind="up", on_wait=lambda who: _say(
        f"waiting for `satudata {who.get('command', '...')}` (pid {who.get('pid', '?')}) to "
        f"finish with {state}"))
    if lock is None:
        who = ownership.running_platform(state) or {}
        _say(f"a platform is already running on {state}: satudata up pid {who.get('pid')}, "
             f"gateway {who.get('gateway', '?')}. Stop it first (Ctrl-C in its terminal), or "
             "set SATUDATA_HOME to another folder")
        raise typer.Exit(1)
    return lock


def _prepare(infra: platform.Infra, state, seed: bool) -> None:
    platform.migrate_all(infra.database_url)
    _say("migrations applied")
    if infra.servers and not os.environ.get("DATABASE_URL"):  # our embedded server
        infra.database_urls = platform.grant_service_roles(infra.database_url)
        _say("each service connects with its own role, owning only its schema")
    summary = platform.seed_all(infra.database_url, state / "dev-keys.env",
                                only_if_empty=True) if seed else None
    if summary:
        _say(f"first start: seeded {summary['regions']} regions, {summary['aliases']} aliases, "
             f"{summary['sample_records']} sample (contoh) records")
    else:  # a start never writes over data
        _say("the database already holds data: nothing seeded or changed "
             "(`satudata seed` adds what is missing and says what)")


def _supervise(procs: platform.Processes, infra: platform.Infra, stopping: dict) -> None:
    """Until Ctrl-C: restart a service or an owned embedded server that died."""
    while not stopping["now"]:
        for name in infra.revive():
            _say(f"embedded {name} server was not running; started it again")
        for name, proc in procs.procs.items():
            if proc.poll() is not None:
                _say(f"{name} exited ({proc.returncode}); restarting it")
                procs.start(name)
        time.sleep(0.5)


@app.command()
def up(
    seed: bool = typer.Option(True, help="seed an EMPTY database: reference data, demo "
                              "dataset, sample (contoh) values and dev keys"),
    public: bool = typer.Option(False, help="let the gateway listen on all interfaces"),
    replicas: str = typer.Option("", help="extra replicas, e.g. search=2,registry=2 (they "
                                 "share their consumers; the gateway uses them in turn)"),
) -> None:
    """Run the whole platform in the foreground: PostgreSQL and NATS (embedded unless
    DATABASE_URL / NATS_URL are set), migrations, seed data on first start, and the four
    services with one combined log. One platform per data folder (.satudata/, locked); it
    restarts a service or embedded server that dies. Ctrl-C stops everything; running it
    again reuses the data and changes none of it."""
    try:
        wanted = platform.parse_replicas(replicas)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--replicas") from exc
    state = platform.home()
    lock = _claim_home(state)
    ports = platform.pick_ports(default=True)
    host = "0.0.0.0" if public else os.environ.get("GATEWAY_HOST", "127.0.0.1")
    gateway = f"http://localhost:{ports['gateway']}"
    if busy := ownership.ports_in_use(ports):
        _say(f"port in use by another program: {', '.join(busy)}; set <SERVICE>_PORT")
        raise typer.Exit(1)
    lock.describe(kind="up", gateway=gateway, stage="starting")
    infra = platform.ensure_infra(state, own=True)
    stopping = {"now": False}
    signal.signal(signal.SIGINT, lambda *_: stopping.update(now=True))
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))
    procs = None
    try:
        _say(f"database {infra.database_url.split('@')[-1]}  "
             f"nats {infra.nats_url.split('@')[-1]}")  # never a password in the log
        _prepare(infra, state, seed)
        env = platform.service_env(infra, ports, extra=receipt.ensure_key(state),
                                   state_dir=state)
        write_service_urls(platform.add_replicas(ports, env, wanted))
        procs = platform.Processes(env, ports, gateway_host=host, log_dir=None)
        procs.start_all()
        procs.wait_ready()
        lock.describe(kind="up", gateway=gateway, stage="ready", **ownership.owned(infra, procs))
        _say(f"ready: gateway {gateway}  (portal {gateway}/ , API docs {gateway}/docs)")
        for key, value in platform.read_env_file(state / "dev-keys.env").items():
            _say(f"  {key}={value}")
        _say(f"keys in {state / 'dev-keys.env'}; Ctrl-C stops everything")
        _supervise(procs, infra, stopping)
    finally:
        _say("stopping services")
        if procs:
            procs.stop()
        infra.stop()
        lock.release()
        _say("stopped")


@app.command()
def migrate() -> None:
    """Apply every service's Alembic migrations (each service owns one PostgreSQL schema)."""
    with ownership.visiting() as infra:
        platform.migrate_all(infra.database_url)
        platform.ensure_streams(infra.nats_url, os.environ.get("NATS_NAMESPACE", ""))
    _say("migrations applied, streams in place")


@app.command("seed")
def seed_cmd(
    sample_values: bool = typer.Option(True, help="also load SAMPLE (contoh) population values "
                                       "into the demo dataset, if it holds no value yet"),
    dry_run: bool = typer.Option(False, "--dry-run", help="say what would be added; add nothing"),
) -> None:
    """Add what is missing of the Kutai Timur region tree, BPS aliases, the demo dataset and
    the development API keys (written to .satudata/dev-keys.env), and say what was added.
    Nothing that exists is changed: a region the walidata renamed, a publisher's grants, a
    value, a revoked key stay as they are."""
    with ownership.visiting() as infra:
        platform.migrate_all(infra.database_url)
        summary = platform.seed_all(infra.database_url, platform.home() / "dev-keys.env",
                                    sample_values, dry_run=dry_run)
    verb = "would add" if dry_run else "added"
    _say(f"{verb}: {summary['regions']} regions, {summary['aliases']} aliases, "
         f"publishers {summary['publishers'] or 'none'}, "
         f"demo dataset {'yes' if summary['dataset_created'] else 'no'}, "
         f"{summary['sample_records']} sample (contoh) records, "
         f"keys {summary['keys_created'] or 'none'}")
    if summary["regions_differing"]:
        _say(f"kept as they are ({len(summary['regions_differing'])} regions differ from the "
             f"reference file; change them with POST /v1/regions/import): "
             + ", ".join(summary["regions_differing"][:20]))
    for refusal in summary["aliases_refused"]:
        _say(f"alias refused: {refusal}")


@app.command("signing-keys")
def signing_keys(
    kubernetes: bool = typer.Option(False, "--kubernetes", help="the keys as the Secret "
                                    "satudata-signing holds them (service=key)"),
) -> None:
    """Print a new Ed25519 signing key for each service and the line of public keys every
    service reads (SATUDATA_SIGNING_PUBLIC_KEYS): for docker compose's .env or a Kubernetes
    Secret. `make up` makes its own in .satudata/signing/. Keep the keys out of git and logs."""
    import json

    from shared.signing import SigningKey

    keys = {name: SigningKey.generate(name) for name in platform.SERVICES}
    for name, key in keys.items():
        typer.echo(f"{name}={key.seed()}" if kubernetes else
                   f"{name.upper()}_SIGNING_KEY={key.seed()}")
    typer.echo("SATUDATA_SIGNING_PUBLIC_KEYS=" + json.dumps(
        {name: [key.public()] for name, key in keys.items()}, separators=(",", ":")))


app.command()(push)
app.command()(reindex)
app.command()(status)
app.command()(backup)
app.command()(restore)
app.command()(verify)  # hash chains
app.add_typer(deadletter.app, name="deadletter")
app.add_typer(receipt.app, name="receipt")  # signed receipts

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
