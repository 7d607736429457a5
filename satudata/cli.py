"""The ``satudata`` command: run, migrate, seed and feed the platform.

Typer gives us --help for every command from the docstrings and type hints.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import typer

from satudata import deadletter, platform, receipt
from satudata.backup import backup, restore
from satudata.push import push
from satudata.reindex import reindex
from satudata.status import status, write_service_urls
from satudata.verify import verify  # issue 19

app = typer.Typer(help="Satu Data: one source of truth for Kabupaten Kutai Timur's public data.",
                  no_args_is_help=True, add_completion=False)


def _say(text: str) -> None:
    typer.echo(f"satudata | {text}")


@app.command()
def up(
    seed: bool = typer.Option(True, help="seed reference data, demo dataset and dev keys"),
    public: bool = typer.Option(False, help="let the gateway listen on all interfaces"),
    replicas: str = typer.Option("", help="extra replicas, e.g. search=2,registry=2 (they "
                                 "share their consumers; the gateway uses them in turn)"),
) -> None:
    """Run the whole platform in the foreground: PostgreSQL and NATS (embedded unless
    DATABASE_URL / NATS_URL are set), migrations, seed data, and the four services with one
    combined log. Ctrl-C stops everything; running it again reuses the data in .satudata/."""
    try:
        wanted = platform.parse_replicas(replicas)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--replicas") from exc
    state = platform.home()
    state.mkdir(parents=True, exist_ok=True)
    infra = platform.ensure_infra(state)
    _say(f"database {infra.database_url.split('@')[-1]}  "
         f"nats {infra.nats_url.split('@')[-1]}")  # never a password in the log
    platform.migrate_all(infra.database_url)
    _say("migrations applied")
    if infra.started and not os.environ.get("DATABASE_URL"):  # our embedded server
        infra.database_urls = platform.grant_service_roles(infra.database_url)
        _say("each service connects with its own role, owning only its schema")
    keys_file = state / "dev-keys.env"
    if seed:
        summary = platform.seed_all(infra.database_url, keys_file)
        _say(f"seeded {summary['regions']} regions, {summary['aliases']} new aliases")
    ports = platform.pick_ports(default=True)
    env = platform.service_env(infra, ports, secret=platform.service_secret(state),
                               extra=receipt.ensure_key(state))  # issue 19: receipt key
    write_service_urls(platform.add_replicas(ports, env, wanted))
    host = "0.0.0.0" if public else os.environ.get("GATEWAY_HOST", "127.0.0.1")
    procs = platform.Processes(env, ports, gateway_host=host,
                               log_dir=None)
    stopping = {"now": False}

    def stop(*_args):
        stopping["now"] = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        procs.start_all()
        procs.wait_ready()
        gateway = f"http://localhost:{ports['gateway']}"
        _say(f"ready: gateway {gateway}  (portal {gateway}/ , API docs {gateway}/docs)")
        for key, value in platform.read_env_file(keys_file).items():
            _say(f"  {key}={value}")
        _say(f"keys written to {keys_file}; Ctrl-C stops everything")
        while not stopping["now"]:
            for name, proc in procs.procs.items():
                if proc.poll() is not None:
                    _say(f"{name} exited ({proc.returncode}); restarting it")
                    procs.start(name)
            time.sleep(0.5)
    finally:
        _say("stopping services")
        procs.stop()
        infra.stop()
        _say("stopped")


@app.command()
def migrate() -> None:
    """Apply every service's Alembic migrations (each service owns one PostgreSQL schema)."""
    infra = platform.ensure_infra()
    try:
        platform.migrate_all(infra.database_url)
        _say("migrations applied")
    finally:
        infra.stop()


@app.command("seed")
def seed_cmd(
    sample_values: bool = typer.Option(True, help="also load SAMPLE (contoh) population values"),
) -> None:
    """Load the Kutai Timur region tree, BPS aliases, the demo dataset and development API
    keys (written to .satudata/dev-keys.env). Safe to run again."""
    infra = platform.ensure_infra()
    try:
        platform.migrate_all(infra.database_url)
        summary = platform.seed_all(infra.database_url, platform.home() / "dev-keys.env",
                                    sample_values)
        _say(f"{summary['regions']} regions, {summary['aliases']} new aliases, "
             f"{summary['sample_records']} sample records")
        for refusal in summary["aliases_refused"]:
            _say(f"alias refused: {refusal}")
    finally:
        infra.stop()


app.command()(push)
app.command()(reindex)
app.command()(status)
app.command()(backup)
app.command()(restore)
app.command()(verify)  # issue 19: hash chains
app.add_typer(deadletter.app, name="deadletter")
app.add_typer(receipt.app, name="receipt")  # issue 19: signed receipts

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
