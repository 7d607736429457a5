"""One platform per data folder (``SATUDATA_HOME``), and commands that visit it.

``satudata up`` holds an exclusive lock on the folder for its whole life and owns the embedded
servers in it: it stops them at its end and restarts one that dies. A second ``up`` on the same
folder is refused with the running platform's URL. A command (migrate, seed, verify, backup,
restore) run beside it uses its servers and stops nothing; run alone, it starts the servers it
needs, holding the lock meanwhile, and stops only those.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import socket
import sys
import time
from pathlib import Path
from typing import Iterator

from satudata.platform import EmbeddedPostgres, Infra, Processes, ensure_infra, home

LOCK_FILE = "platform.lock"


class HomeLock:
    """An exclusive ``flock`` on ``<SATUDATA_HOME>/platform.lock``, held for the life of the
    process that runs the platform (``satudata up``) or, when no platform runs, of a command
    that starts the embedded servers itself. The file says who holds it (JSON: kind, pid,
    since, gateway, servers), so a second ``make up`` can name the running platform and a
    command can visit it. The kernel releases the lock when the holder dies, even by kill -9."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / LOCK_FILE
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = _out_of_the_way(fd)
        return True

    def acquire(self, on_wait=None) -> None:
        if self.try_acquire():
            return
        if on_wait:
            on_wait(self.holder())
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.fd = _out_of_the_way(fd)

    def describe(self, **info) -> None:
        """Say who holds the lock (the holder writes; anyone reads)."""
        body = json.dumps({"pid": os.getpid(), "since": time.time(), **info}).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, body, 0)

    def holder(self) -> dict | None:
        """Who holds the lock now, or None when nobody does."""
        probe = HomeLock(self.path.parent)
        if probe.try_acquire():
            probe.release()
            return None
        try:
            return json.loads(self.path.read_text() or "{}") or {"kind": "unknown"}
        except (OSError, ValueError):
            return {"kind": "unknown"}

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _out_of_the_way(fd: int) -> int:
    """The lock's descriptor moved above the numbers `open` hands out (the lowest free one):
    held at 3, the first a process opens, one stray close of a number some library closed
    already and the kernel gave to the lock (a double close) would release the lock and send
    `describe` into another file. The flock belongs to the open file, which the copy keeps."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    floor = 256 if soft == resource.RLIM_INFINITY else min(256, soft // 2)
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor)
    os.close(fd)
    return high


def running_platform(state_dir: Path | None = None) -> dict | None:
    """The ``satudata up`` that holds this data folder, if one does."""
    holder = HomeLock(state_dir or home()).holder()
    return holder if holder and holder.get("kind") == "up" else None


def claim_home(state_dir: Path, *, kind: str, on_wait=None) -> HomeLock | None:
    """Take the data folder's lock for ``kind`` ("up" or "command"), waiting while another
    command holds it; None when a platform (``satudata up``) holds it: visit it instead."""
    lock = HomeLock(state_dir)
    waited = False
    while not lock.try_acquire():
        who = lock.holder()
        if who and who.get("kind") == "up":
            return None
        if not waited and on_wait:
            on_wait(who or {})
        waited = True
        time.sleep(0.2)
    lock.describe(kind=kind, command=" ".join(sys.argv[1:2]) or "satudata")
    return lock


@contextlib.contextmanager
def visiting(state_dir: Path | None = None) -> Iterator[Infra]:
    """The servers for a command (migrate, seed, verify, backup, restore): those of the
    platform running on this data folder if one runs (used, never stopped), else embedded ones
    started for the command and stopped after it, the folder locked meanwhile so a
    ``make up`` waits instead of adopting servers about to stop."""
    state_dir = state_dir or home()
    lock = None
    if not (os.environ.get("DATABASE_URL") and os.environ.get("NATS_URL")):
        lock = claim_home(state_dir, kind="command", on_wait=lambda who: print(
            f"satudata | waiting for {who.get('command') or who.get('kind', 'a command')} "
            f"(pid {who.get('pid', '?')}) to finish with {state_dir}", file=sys.stderr))
    infra = ensure_infra(state_dir)
    try:
        yield infra
    finally:
        infra.stop()
        if lock:
            lock.release()


def owned(infra: Infra, procs: Processes) -> dict:
    """What a running ``satudata up`` owns, for ``satudata status``: pids and ports."""
    servers = {("postgres" if isinstance(s, EmbeddedPostgres) else "nats"):
               {"pid": s.pid, "port": s.port} for s in infra.started}
    return {"servers": servers, "services": {n: p.pid for n, p in procs.procs.items()}}


def ports_in_use(ports: dict[str, int], host: str = "127.0.0.1") -> list[str]:
    """The services whose port another program already listens on."""
    busy = []
    for name, port in ports.items():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                busy.append(f"{name} {host}:{port}")
    return busy
