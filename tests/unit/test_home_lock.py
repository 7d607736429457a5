"""The data folder's lock (satudata/ownership.py) is held by a real process for its whole life,
even when code in that process closes a descriptor number it no longer owns (a double close
lands on whatever the kernel handed out next: held at the lowest number, the lock's)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from satudata.ownership import HomeLock

HOLDER = """
import os, sys
from pathlib import Path
from satudata.ownership import HomeLock
lock = HomeLock(Path(sys.argv[1]))
assert lock.try_acquire()
for fd in range(3, 256):  # every number `open` hands out first, as stray closes would
    try:
        os.close(fd)
    except OSError:
        pass
lock.describe(kind="up", stage="ready", servers={})
print("held", flush=True)
sys.stdin.readline()  # until the test is done
"""


def test_the_lock_outlives_stray_closes_of_low_descriptors():
    home = Path(tempfile.mkdtemp(prefix="satudata-lock-"))
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(home)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        other = HomeLock(home)
        assert not other.try_acquire()  # still held by the process
        said = other.holder()
        assert said["kind"] == "up" and said["stage"] == "ready" and said["pid"] == proc.pid
        assert json.loads((home / "platform.lock").read_text())["servers"] == {}
    finally:
        proc.stdin.close()
        proc.wait(10)
    other = HomeLock(home)
    assert other.try_acquire()  # the holder ended: the kernel released it
    other.release()
