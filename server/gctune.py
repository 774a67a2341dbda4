"""The garbage collector, tuned for a long-running server.

CPython's default thresholds (700, 10, 10) run a full collection whenever the long-lived heap
has grown by a quarter, and a full collection walks every object of the process: with a
thousand open sockets that pause reached 100-300 ms, which was what capped the message rate
(delivery p99, not throughput: `python -m bench --only knee`, bench/RESULTS.md "Garbage
collector"). After startup, everything imported and built so far (modules, the app, routes,
settings) is frozen out of the collector's sight, and collections of the young generations
run less often, so the old one is reached less often too.
"""

from __future__ import annotations

import gc

# With gen0 at GC_GEN0_THRESHOLD (50,000 net allocations, a few ms of work): gen1 every 20 of
# those, a full collection every 100 gen1 collections (and only after the old heap grew 25 %).
OLDER_THRESHOLDS = (20, 100)


def tune_after_startup(gen0_threshold: int) -> None:
    """Freeze what startup built and raise the thresholds; call once the app is ready.
    `gen0_threshold` 0 leaves CPython's defaults (to compare, in bench/)."""
    if gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0_threshold, *OLDER_THRESHOLDS)
