"""py-spy on the server's workers while a load step runs, and a text summary of where time went."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

AREAS = [  # first match wins; matched against the frame's file path
    ("carethread server", "/server/"),
    ("piccolo", "/piccolo/"),
    ("asyncpg", "/asyncpg/"),
    ("sqlite", "sqlite"),
    ("redis client", "/redis/"),
    ("litestar", "/litestar/"),
    ("uvicorn", "/uvicorn/"),
    ("websockets", "/websockets/"),
    ("h11", "/h11/"),
    ("msgspec", "msgspec"),
    ("json", "/json/"),
    ("logging", "/logging/"),
    ("asyncio", "/asyncio/"),
]


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pids: list[int], seconds: float, outdir: Path, label: str,
                 rate: int = 200) -> list[Path]:
    """Sample every pid for `seconds` (non-blocking: the processes are not paused)."""
    tool = py_spy()
    if tool is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    outdir.mkdir(parents=True, exist_ok=True)
    paths = [outdir / f"profile-{label}-{pid}.txt" for pid in pids]
    procs = [await asyncio.create_subprocess_exec(
        tool, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(rate),
        "--format", "raw", "--nonblocking", "--output", str(path),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    ) for pid, path in zip(pids, paths, strict=True)]
    await asyncio.gather(*(p.wait() for p in procs))
    return [p for p in paths if p.exists()]


def _frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for frame in stack.split(";"):
        name, _, where = frame.partition(" (")
        out.append((name.strip(), where.rstrip(")")))
    return out


def _short(name: str, path: str) -> str:
    for marker in ("/site-packages/", "/lib/python3.11/", "/work/main/", "/benchwt/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


def summarize(paths: list[Path], top: int = 25) -> dict[str, Any]:
    """Self time by function, inclusive time by function, and inclusive time by library."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    idle = 0
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            frames = _frames(stack)
            total += count
            leaf_name, leaf_where = frames[-1]
            if leaf_name in {"select", "poll", "epoll_wait", "_run_once"} and "selectors" in \
                    leaf_where:
                idle += count
            self_time[_short(leaf_name, leaf_where.rsplit(":", 1)[0])] += count
            seen_funcs: set[str] = set()
            seen_areas: set[str] = set()
            for name, where in frames:
                key = _short(name, where.rsplit(":", 1)[0])
                if key not in seen_funcs:
                    seen_funcs.add(key)
                    inclusive[key] += count
                for area, marker in AREAS:
                    if marker in where:
                        if area not in seen_areas:
                            seen_areas.add(area)
                            areas[area] += count
                        break

    def share(counter: Counter[str]) -> list[list[Any]]:
        return [[k, round(100 * v / max(1, total), 1)] for k, v in counter.most_common(top)]

    return {
        "samples": total,
        "idle_pct": round(100 * idle / max(1, total), 1),
        "self_pct": share(self_time),
        "inclusive_pct": share(inclusive),
        "area_inclusive_pct": share(areas),
    }


def render(summary: dict[str, Any], lines: int = 15) -> str:
    out = [f"samples {summary['samples']}, idle in the selector {summary['idle_pct']}%",
           "by library (inclusive %):"]
    out += [f"  {pct:5.1f}  {name}" for name, pct in summary["area_inclusive_pct"]]
    out.append("top self time (%):")
    out += [f"  {pct:5.1f}  {name}" for name, pct in summary["self_pct"][:lines]]
    out.append("top inclusive time (%):")
    out += [f"  {pct:5.1f}  {name}" for name, pct in summary["inclusive_pct"][:lines]]
    return "\n".join(out)
