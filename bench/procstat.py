"""CPU time and resident memory of processes, read from /proc (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its threads included), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * PAGE


def children(pid: int) -> list[int]:
    """Direct children of a process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def threads(pid: int) -> int:
    """The number of threads of a process (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


def pids_named(name: str) -> list[int]:
    """Every process whose command name is `name` (e.g. postgres, redis-server)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
        except OSError:
            continue
        if comm == name:
            found.append(int(entry))
    return found


def postgres_pids(database: str | None) -> list[int]:
    """The postmaster's helpers and the backends of one database (not other databases')."""
    found = []
    for pid in pids_named("postgres"):
        line = cmdline(pid)
        if database and database in line:
            found.append(pid)
        elif "carethread" not in line and " idle" not in line and "(" not in line:
            found.append(pid)
    return found


def total_cpu_seconds() -> tuple[float, float]:
    """(busy, total) seconds of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


@dataclass
class CpuMeter:
    """CPU seconds used by named groups of processes between start() and stop()."""

    groups: dict[str, list[int]]

    def start(self) -> None:
        self._before = {g: sum(cpu_seconds(p) for p in pids) for g, pids in self.groups.items()}
        self._machine = total_cpu_seconds()
        self._t0 = _now()

    def stop(self) -> dict[str, float]:
        """Percent of one core for each group, and the machine's busy percent of all cores."""
        wall = max(_now() - self._t0, 1e-9)
        out = {}
        for group, pids in self.groups.items():
            used = sum(cpu_seconds(p) for p in pids) - self._before[group]
            out[group] = round(100 * used / wall, 1)
        busy, total = total_cpu_seconds()
        b0, t0 = self._machine
        share = (busy - b0) / max(total - t0, 1e-9)
        out["machine_busy_pct_of_all_cores"] = round(100 * share, 1)
        # Whatever else ran meanwhile (other work on a shared machine), in % of one core.
        cores = len(os.sched_getaffinity(0)) or 1
        mine = sum(v for k, v in out.items() if k != "machine_busy_pct_of_all_cores")
        out["other_processes"] = round(max(0.0, 100 * share * cores - mine), 1)
        return out


def _now() -> float:
    import time

    return time.monotonic()


def machine_description() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    import platform

    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
