"""Bring the whole platform up on one machine: servers, migrations, seed, four processes.

Used by ``satudata up`` and by the end-to-end tests and benchmarks, so that what the tests run
is what an operator runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

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
    started: list = field(default_factory=list)

    def stop(self) -> None:
        for server in reversed(self.started):
            server.stop()


def ensure_infra(state_dir: Path | None = None) -> Infra:
    """Servers named by DATABASE_URL / NATS_URL, or our own embedded ones under state_dir."""
    state_dir = state_dir or home()
    started = []
    db = os.environ.get("DATABASE_URL")
    if not db:
        pg = EmbeddedPostgres(state_dir / "postgres").start()
        started.append(pg)
        db = pg.url
    nats_url = os.environ.get("NATS_URL")
    if not nats_url:
        server = EmbeddedNats(state_dir / "nats").start()
        started.append(server)
        nats_url = server.url
    return Infra(db, nats_url, started)


def migrate_all(database_url: str) -> None:
    from shared.db import run_migrations

    for name in MIGRATED:
        run_migrations(ROOT / "services" / name, database_url)


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def seed_all(database_url: str, keys_file: Path | None = None, sample_values: bool = True
             ) -> dict:
    """Seed the registry; write development keys to ``keys_file`` (mode 600)."""
    from services.registry.seed import seed
    from shared.db import create_pool

    existing = read_env_file(keys_file) if keys_file else {}

    async def run():
        pool = await create_pool(database_url, "registry")
        try:
            return await seed(pool, existing, sample_values=sample_values)
        finally:
            await pool.close()

    summary = asyncio.run(run())
    if keys_file:
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        body = "# Development API keys for this machine only (satudata seed). Never commit.\n"
        body += "".join(f"{k}={v}\n" for k, v in summary["keys"].items())
        keys_file.write_text(body)
        keys_file.chmod(0o600)
    return summary


def service_env(infra: Infra, ports: dict[str, int], namespace: str = "",
                extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": infra.database_url, "NATS_URL": infra.nats_url,
                "PYTHONUNBUFFERED": "1"})
    if namespace:
        env["NATS_NAMESPACE"] = namespace
    for name, port in ports.items():
        env[f"{name.upper()}_PORT"] = str(port)
        for other in SERVICES:
            env[f"{other.upper()}_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
    env.update(extra or {})
    return env


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


def service_command(name: str, port: int, host: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"services.{name}.app:create_app", "--factory",
            "--host", host, "--port", str(port), "--no-access-log", "--log-level", "warning"]


class Processes:
    """The four services as child processes, their output merged with a prefix per line."""

    def __init__(self, env: dict[str, str], ports: dict[str, int], *, gateway_host="127.0.0.1",
                 prefix_output: bool = True, log_dir: Path | None = None):
        self.env, self.ports = env, ports
        self.gateway_host = gateway_host
        self.prefix_output = prefix_output
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def start(self, name: str) -> subprocess.Popen:
        service = service_of(name)
        host = self.gateway_host if service == "gateway" else \
            self.env.get(f"{service.upper()}_HOST", "127.0.0.1")
        proc = subprocess.Popen(
            service_command(service, self.ports[name], host), env=self.env, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        threading.Thread(target=self._pump, args=(name, proc), daemon=True).start()
        return proc

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        log = open(self.log_dir / f"{name}.log", "ab") if self.log_dir else None
        tty = sys.stdout.isatty()
        color, reset = (COLORS.get(service_of(name), ""), "\033[0m") if tty else ("", "")
        for line in iter(proc.stdout.readline, b""):
            if log:
                log.write(line)
                log.flush()
            if self.prefix_output:
                with self._lock:
                    sys.stdout.write(f"{color}{name:<8}|{reset} "
                                     f"{line.decode('utf-8', 'replace')}")
                    sys.stdout.flush()
        if log:
            log.close()

    def start_all(self) -> None:
        for name in self.ports:  # SERVICES' order, then any extra replicas
            self.start(name)

    def wait_ready(self, timeout: float = 60.0, names=None) -> None:
        deadline = time.monotonic() + timeout
        for name in names or list(self.ports):
            url = f"http://127.0.0.1:{self.ports[name]}/healthz"
            while True:
                proc = self.procs.get(name)
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {proc.returncode}")
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not healthy after {timeout}s")
                time.sleep(0.1)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, sig)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def pick_ports(default: bool) -> dict[str, int]:
    if default:
        return {n: int(os.environ.get(f"{n.upper()}_PORT", DEFAULT_PORTS[n])) for n in SERVICES}
    return {n: free_port() for n in SERVICES}
