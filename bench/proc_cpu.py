"""CPU seconds spent by processes and their descendants, from /proc (Linux): what a benchmark's
row costs each process, measured in CPU time rather than wall time, so that it moves much less
when other work shares the machine."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, utime + stime + cutime + cstime in seconds) of one live process. A child
    already waited for counts in its parent's cutime/cstime, so a tree's sum stays whole while
    backends come and go."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / TICKS


def _all_stats() -> dict[int, tuple[int, float]]:
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                out[int(entry.name)] = stat
    return out


def tree_cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """{name: CPU seconds of the root process and all its live descendants} for each root."""
    stats = _all_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in stats:
                total += stats[pid][1]
                todo.extend(children.get(pid, ()))
        out[name] = total
    return out


def self_cpu_seconds() -> float:
    """This process's own CPU (the benchmark's client side)."""
    times = os.times()
    return times.user + times.system


def snapshot(roots: dict[str, int], client: str) -> dict[str, float]:
    """``tree_cpu_seconds(roots)`` and this process's own CPU under ``client``."""
    return tree_cpu_seconds(roots) | {client: self_cpu_seconds()}


def cores() -> float:
    """The CPUs this process may use: the lowest of the CPU count, its affinity and the cgroup
    (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``) quota."""
    limits = [float(os.cpu_count() or 1)]
    if hasattr(os, "sched_getaffinity"):
        limits.append(float(len(os.sched_getaffinity(0))))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            limits.append(int(quota) / int(period))
    except (FileNotFoundError, ValueError):
        try:
            quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
            period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
            if quota > 0:
                limits.append(quota / period)
        except (FileNotFoundError, ValueError):
            pass
    return min(limits)


def per_thousand_rows(before: dict[str, float], after: dict[str, float], rows: int
                      ) -> dict[str, float]:
    """CPU milliseconds per 1,000 rows of each process between two snapshots."""
    return {name: round((after[name] - before[name]) * 1e6 / rows, 1) for name in after}


def bound(cpu_ms: dict[str, float], cpu_cores: float, copy_rows_per_second: float) -> dict:
    """What the CPU per row allows on this machine's cores if nothing else ran, beside COPY."""
    total = sum(cpu_ms.values())
    rate = cpu_cores * 1e6 / total if total > 0 else None
    return {
        "cpu_ms_per_1000_rows_total": round(total, 1),
        "cpu_share": {name: round(ms / total, 3) for name, ms in cpu_ms.items()} if total else {},
        "cores": cpu_cores,
        "cpu_bound_rows_per_second": round(rate, 1) if rate else None,
        "cpu_bound_ratio_to_raw_copy": round(rate / copy_rows_per_second, 4) if rate else None,
    }
