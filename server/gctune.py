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

# gen0 every 50,000 net allocations (a few ms of work), gen1 every 20 of those, a full
# collection every 100 gen1 collections (and still only after a 25 % growth of the old heap).
THRESHOLDS = (50_000, 20, 100)


def tune_after_startup() -> None:
    """Freeze what startup built and raise the thresholds; call once the app is ready."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
