"""Bring the whole platform up on one machine: servers, migrations, seed, four processes.

Used by ``satudata up`` and by the end-to-end tests and benchmarks, so that what the tests run
is what an operator runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


from shared.infra import EmbeddedNats, EmbeddedPostgres, free_port

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("registry", "ingest", "search", "gateway")
MIGRATED = ("registry", "ingest", "search")
DEFAULT_PORTS = {"gateway": 8000, "registry": 8001, "ingest": 8002, "search": 8003}
COLORS = {"registry": "\033[35m", "ingest": "\033[36m", "search": "\033[33m",
          "gateway": "\033[32m", "satudata": "\033[1m"}


def home() -> Path:
    return Path(os.environ.get("SATUDATA_HOME", ".satudata")).resolve()


@dataclass
class Infra:
    database_url: str
    nats_url: str
    started: list = field(default_factory=list)  # the embedded servers this process owns
    # each service's own NATS user (embedded server); empty: every service uses nats_url
    nats_urls: dict[str, str] = field(default_factory=dict)
    # each service's own PostgreSQL role (grant_service_roles); empty: database_url for all
    database_urls: dict[str, str] = field(default_factory=dict)
    servers: list = field(default_factory=list)  # every embedded server in use, owned or not

    def stop(self) -> None:
        """Stop the servers this process owns; a server it only visits keeps running."""
        for server in reversed(self.started):
            server.stop()

    def revive(self) -> list[str]:
        """Start again an owned server that died (kill -9, a crash), on its port and data;
        returns the names of those restarted. What ``satudata up`` does for its services, it
        does for its servers."""
        revived = []
        for server in self.started:
            if not server.alive():
                name = "postgres" if isinstance(server, EmbeddedPostgres) else "nats"
                try:
                    server.start()
                except (OSError, subprocess.SubprocessError, TimeoutError) as exc:
                    # e.g. a killed postmaster's backends still hold its shared memory for a
                    # moment: the next round tries again
                    print(f"satudata | {name} not started yet ({type(exc).__name__}); retrying",
                          file=sys.stderr)
                    continue
                revived.append(name)
        return revived


def ensure_infra(state_dir: Path | None = None, *, own: bool = False) -> Infra:
    """Servers named by DATABASE_URL / NATS_URL, or the embedded ones under state_dir.

    An embedded server already running on that folder (a platform's, beside which this
    command runs) is used as it is and never stopped by this process; one started here is
    stopped by ``Infra.stop``. ``own`` (``satudata up``, holding the folder's lock): every
    embedded server in use is this process's, adopted ones included, stopped at its end and
    restarted if it dies."""
    state_dir = state_dir or home()
    servers, started = [], []
    db = os.environ.get("DATABASE_URL")
    if not db:
        pg = EmbeddedPostgres(state_dir / "postgres").start()
        servers.append(pg)
        db = pg.url
    nats_url = os.environ.get("NATS_URL")
    nats_urls: dict[str, str] = {}
    if not nats_url:
        server = EmbeddedNats(state_dir / "nats").start()
        servers.append(server)
        nats_url, nats_urls = server.url, server.service_urls()
    for server in servers:
        if own:
            server.started_here = True  # adopted from an earlier run that died: ours now
        if server.started_here:
            started.append(server)
    return Infra(db, nats_url, started, nats_urls, servers=servers)


def ensure_streams(nats_url: str, namespace: str = "") -> None:
    """Create or update the JetStream streams with the operator's user (services with users of
    their own may not): before the services start, and in `satudata migrate`."""
    from shared import bus

    async def run():
        nc = await bus.connect(nats_url, "satudata-streams")
        try:
            await bus.ensure_streams(nc.jetstream(), bus.Namespace(namespace))
        finally:
            await nc.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run())
        return
    import concurrent.futures  # called from async code (the tests' harness): its own loop

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def migrate_all(database_url: str) -> None:
    from shared.db import run_migrations

    for name in MIGRATED:
        run_migrations(ROOT / "services" / name, database_url)


def service_role(name: str) -> str:
    return f"satudata_{name}"


def grant_service_roles(database_url: str) -> dict[str, str]:
    """Least privilege in PostgreSQL: a login role per service that owns its own schema (and
    every object in it) and nothing else, so a service can touch only its own tables. Run after
    the migrations (idempotent); returns each service's database URL (same server, its role,
    its password). The password is derived from the superuser's (``role_password``), so every
    run on one server gives the same one and a platform started beside another on the same
    server does not lock the first out; the embedded server requires it (scram-sha-256)."""
    import asyncpg

    async def run():
        conn = await asyncpg.connect(database_url)
        try:
            for name in MIGRATED:
                role = service_role(name)
                await conn.execute(f"""
                    DO $$ BEGIN
                      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                        CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
                      END IF;
                    END $$""")
                await conn.execute(f"ALTER ROLE {role} PASSWORD "
                                   f"'{role_password(database_url, role)}'")
                await conn.execute(f"REVOKE ALL ON SCHEMA public FROM {role}")
                await conn.execute(f"ALTER SCHEMA {name} OWNER TO {role}")
                await conn.execute(f"""
                    DO $$ DECLARE obj record; BEGIN
                      FOR obj IN SELECT c.relname, c.relkind FROM pg_class c
                                 JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE n.nspname = '{name}' AND (c.relkind IN ('r','p','v','m')
                                   OR c.relkind = 'S' AND NOT EXISTS (
                                     SELECT FROM pg_depend d WHERE d.objid = c.oid
                                       AND d.classid = 'pg_class'::regclass
                                       AND d.refclassid = 'pg_class'::regclass
                                       AND d.deptype IN ('a', 'i')))
                      LOOP
                        -- a table's own sequences move with it; standalone ones here
                        EXECUTE format('ALTER %s {name}.%I OWNER TO {role}',
                          CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                           WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                          obj.relname);
                      END LOOP;
                    END $$""")
        finally:
            await conn.close()

    asyncio.run(run())
    scheme, rest = database_url.split("://", 1)
    host = rest.split("@", 1)[-1]
    return {name: f"{scheme}://{service_role(name)}:"
                  f"{role_password(database_url, service_role(name))}@{host}"
            for name in MIGRATED}


def role_password(database_url: str, role: str) -> str:
    """A service role's password: an HMAC of its name under the superuser's password (the
    same on every run against one server; nothing to store, nothing to rotate by hand)."""
    import hashlib
    import hmac
    from urllib.parse import urlsplit

    key = (urlsplit(database_url).password or "no-password").encode()
    return hmac.new(key, f"satudata-role:{role}".encode(), hashlib.sha256).hexdigest()[:40]


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def seed_all(database_url: str, keys_file: Path | None = None, sample_values: bool = True,
             *, only_if_empty: bool = False, dry_run: bool = False) -> dict | None:
    """Add the reference data, demo dataset, sample values and development keys that are
    missing (services.registry.bootstrap.seed: nothing that exists is changed); write the keys to
    ``keys_file`` (mode 600). ``only_if_empty``: seed only a database nothing was loaded into,
    else None (what a start does: a start never writes over data)."""
    from services.registry.bootstrap.seed import is_empty, seed
    from shared.db import create_pool

    existing = read_env_file(keys_file) if keys_file else {}

    async def run():
        pool = await create_pool(database_url, "registry")
        try:
            if only_if_empty:
                async with pool.acquire() as conn:
                    if not await is_empty(conn):
                        return None
            return await seed(pool, existing, sample_values=sample_values, dry_run=dry_run)
        finally:
            await pool.close()

    summary = asyncio.run(run())
    if keys_file and summary and not dry_run and summary["keys"] != existing:
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        body = "# Development API keys for this machine only (satudata seed). Never commit.\n"
        body += "".join(f"{k}={v}\n" for k, v in summary["keys"].items())
        keys_file.write_text(body)
        keys_file.chmod(0o600)
    return summary


def signing_env(state_dir: Path | None = None) -> dict[str, str]:
    """Each service's own Ed25519 signing key and everyone's public keys (shared.signing): the
    operator's, when ``<SERVICE>_SIGNING_KEY(_FILE)`` are set, else generated once into
    ``<state>/signing/<service>.key`` (mode 600), or for this run only without a state folder.
    ``env_for`` gives each process its own key alone."""
    from shared.signing import SigningKey

    env, public = {}, {}
    for name in SERVICES:
        up = name.upper()
        given = os.environ.get(f"{up}_SIGNING_KEY") or (
            Path(os.environ[f"{up}_SIGNING_KEY_FILE"]).read_text()
            if os.environ.get(f"{up}_SIGNING_KEY_FILE") else "")
        if given:
            key = SigningKey.load(name, given)
        elif state_dir is not None:
            path = state_dir / "signing" / f"{name}.key"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(SigningKey.generate(name).seed() + "\n")
            key = SigningKey.load(name, path.read_text())
            env[f"{up}_SIGNING_KEY_FILE"] = str(path)
        else:
            key = SigningKey.generate(name)
            env[f"{up}_SIGNING_KEY"] = key.seed()
        public[name] = [key.public()]
    if not os.environ.get("SATUDATA_SIGNING_PUBLIC_KEYS"):
        env["SATUDATA_SIGNING_PUBLIC_KEYS"] = json.dumps(public)
    return env


def service_env(infra: Infra, ports: dict[str, int], namespace: str = "",
                extra: dict[str, str] | None = None, state_dir: Path | None = None
                ) -> dict[str, str]:
    env = dict(os.environ)
    env.update(signing_env(state_dir))  # a key each, and everyone's public keys
    env.update({"DATABASE_URL": infra.database_url, "NATS_URL": infra.nats_url,
                "PYTHONUNBUFFERED": "1"})
    for name, url in infra.nats_urls.items():  # least privilege: a NATS user per service
        env[f"{name.upper()}_NATS_URL"] = url
    if infra.nats_urls:  # who may not create streams: the operator's user makes them first
        env["NATS_MANAGE_STREAMS"] = "false"
    for name, url in infra.database_urls.items():  # and a PostgreSQL role per service
        env[f"{name.upper()}_DATABASE_URL"] = url
    if namespace:
        env["NATS_NAMESPACE"] = namespace
    for name, port in ports.items():
        env[f"{name.upper()}_PORT"] = str(port)
        for other in SERVICES:
            env[f"{other.upper()}_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
    env.update(extra or {})
    return env


# Credentials each service process may hold: its own only. Everything else of the operator's
# (the superuser's DATABASE_URL, the NATS operator user, the other services' roles and users,
# the receipt key outside ingest) is left out of its environment.
_SECRET_PREFIXES = ("SATUDATA_RECEIPT_KEY", "INGEST_RECEIPT_KEY")
_OWN_SECRETS = ("_SIGNING_KEY", "_SIGNING_KEY_FILE", "_RECEIPT_KEY", "_RECEIPT_KEY_FILE")


def env_for(service: str, env: dict[str, str]) -> dict[str, str]:
    """The environment of one service's process: ``env`` without any credential that is not
    this service's, and with its own database and NATS URLs under its own names."""
    up = service.upper()
    own_db = env.get(f"{up}_DATABASE_URL") or env.get("DATABASE_URL")
    own_nats = env.get(f"{up}_NATS_URL") or env.get("NATS_URL")
    drop = {"DATABASE_URL", "NATS_URL"} | {
        f"{other.upper()}_{kind}" for other in SERVICES for kind in ("DATABASE_URL", "NATS_URL")
    } | {f"{other.upper()}{kind}" for other in SERVICES if other != service
         for kind in _OWN_SECRETS}
    out = {k: v for k, v in env.items() if k not in drop and not (
        k.startswith(_SECRET_PREFIXES) and not k.startswith(f"{up}_")
        and not (service == "ingest" and k.startswith("SATUDATA_RECEIPT_KEY")))}
    if service != "gateway" and own_db:  # the gateway has no database
        out[f"{up}_DATABASE_URL"] = own_db
    if own_nats:
        out[f"{up}_NATS_URL"] = own_nats
    return out


REPLICABLE = ("registry", "ingest", "search")  # the gateway is one port: scale it behind a LB


def service_of(name: str) -> str:
    """``search#2`` (a second replica) runs the ``search`` service."""
    return name.split("#", 1)[0]


def parse_replicas(spec: str) -> dict[str, int]:
    """``search=2,registry=2`` -> {"search": 2, "registry": 2}; ValueError says what is wrong."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, count = part.partition("=")
        if name not in REPLICABLE:
            raise ValueError(f"{name!r}: replicas are for {', '.join(REPLICABLE)}")
        if not count.isdigit() or not 1 <= int(count) <= 16:
            raise ValueError(f"{part!r}: a count from 1 to 16")
        out[name] = int(count)
    return out


def add_replicas(ports: dict[str, int], env: dict[str, str], replicas: dict[str, int]
                 ) -> dict[str, list[str]]:
    """Give each extra replica a free port and tell the gateway every replica's URL (the
    replicas of a service share its durable consumer and outbox relay by themselves)."""
    for name, count in replicas.items():
        for i in range(2, count + 1):
            ports[f"{name}#{i}"] = free_port()
    urls = {name: [f"http://127.0.0.1:{port}" for key, port in ports.items()
                   if service_of(key) == name] for name in SERVICES}
    for name in REPLICABLE:
        env[f"GATEWAY_{name.upper()}_URL"] = ",".join(urls[name])
    return urls


from satudata.processes import Processes, service_command  # noqa: E402,F401 - one place


def pick_ports(default: bool) -> dict[str, int]:
    if default:
        return {n: int(os.environ.get(f"{n.upper()}_PORT", DEFAULT_PORTS[n])) for n in SERVICES}
    return {n: free_port() for n in SERVICES}
