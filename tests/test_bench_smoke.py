"""The benchmark suite still runs: a tiny scenario on SQLite, every delivery checked.

Figures are never asserted here (they live in bench/RESULTS.md); only that the harness works
and saw no lost, duplicated or out-of-order delivery.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_smoke_run_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"], cwd=ROOT, capture_output=True, text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
