"""A port one process handed out is never handed out by another while the first lives."""

from __future__ import annotations

import subprocess
import sys

from shared import ports

HOLDER = """
import sys
from shared import ports
print(",".join(str(ports.free_port()) for _ in range(300)), flush=True)
sys.stdin.readline()  # holds its ports until the test is done
"""


def test_a_port_another_process_handed_out_is_not_handed_out_again(monkeypatch):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        theirs = [int(p) for p in proc.stdout.readline().split(",")]
        # this process may pick any of them only if the other's reservation is ignored
        # (more picks than free_port tries: refused, it falls back to bind(0))
        picks = iter(theirs)
        monkeypatch.setattr(ports.random.SystemRandom, "randrange", lambda *_: next(picks))
        monkeypatch.setattr(ports, "_HANDED_OUT", set())
        assert ports.free_port() not in theirs
    finally:
        proc.stdin.close()
        proc.wait(10)
