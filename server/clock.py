"""The time, for jobs that run on a schedule; tests can move it forward.

With `CLOCK_OFFSET_FILE` set (tests only), the file holds a number of seconds added to the real
time, read again whenever it changes, so a test can advance a running server's clock.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

_cache: tuple[float, float] = (-1.0, 0.0)  # (mtime, offset seconds)


def _offset() -> float:
    global _cache
    path = os.environ.get("CLOCK_OFFSET_FILE")
    if not path:
        return 0.0
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        return 0.0
    if mtime != _cache[0]:
        try:
            _cache = (mtime, float(Path(path).read_text().strip() or 0))
        except (OSError, ValueError):
            return _cache[1]
    return _cache[1]


def now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=_offset())
