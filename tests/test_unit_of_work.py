"""The unit of work: what a transaction registers happens after commit, and never after a
rollback (events published, mail woken, hooks run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_effects_of_a_rolled_back_transaction_never_happen(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'uow.db'}",
           "SECRET_KEY": "x" * 40, "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "uow_script.py")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # 1 event (thread.created) before; the rolled-back append, mail and hook left no trace.
    assert result["rollback"] == {"published": 0, "woken": 0, "hooks": [], "events": 1,
                                  "mail": 0}
    # The committed one: published once, mail woken once, hook run, and the seq that the
    # rolled-back append had taken is reused (no gap in the log).
    assert result["commit"] == {"published": 1, "woken": 1, "hooks": ["committed"],
                                "events": 2, "mail": 1, "seq": 2}
