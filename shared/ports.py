"""Ports for servers the project starts itself (embedded PostgreSQL and NATS, the services,
test and bench servers): free now, and unlikely to be taken before the server binds them."""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path

_HANDED_OUT: set[int] = set()
_RESERVATIONS: list[int] = []  # the shared reservation file, opened once (see _reserved)


def _reserved(port: int) -> bool:
    """Reserve `port` for this process's life against every other process on the machine
    that picks ports here: a POSIX record lock on byte `port` of one shared file (released by
    the kernel when the process ends, however it ends). Two pytest workers each checked that
    a port was free before either server bound it, and one's readiness probe then met the
    other's server, which went away with its test. True where the file cannot be shared (the
    bind check alone decides there)."""
    if not _RESERVATIONS:
        try:
            fd = os.open(Path(tempfile.gettempdir()) / "satudata-ports.lock",
                         os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return True
        _RESERVATIONS.append(fd)
    try:
        fcntl.lockf(_RESERVATIONS[0], fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
    except OSError:
        return False
    return True


def _ephemeral_floor() -> int:
    """The first port the kernel hands to bind(0) and outgoing connections (Linux default
    32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a server about to start. Chosen at random below the
    kernel's ephemeral range, never twice by one process: a port taken from bind(0) and closed
    is the kind the kernel hands straight to the next bind(0), so another process's server
    (two pytest workers, a bench beside a platform) could take it before ours bound it, and a
    readiness probe then met the wrong server (a NATS cluster node died of "address already
    in use"); nor one another process here handed out (_reserved). bind(0) only when no port
    of that range is free."""
    floor = _ephemeral_floor()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(10_000, max(floor, 10_001))
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        if not _reserved(port):  # another process handed it out: its server may bind it yet
            continue
        return port
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
