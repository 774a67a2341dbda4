"""One log format for everything a `carethread serve` prints: ours, uvicorn's and its access log.

uvicorn writes two lines for every WebSocket it opens ("... [accepted]" and the websockets
library's "connection open") and none when it closes; the WebSocket endpoint logs one line per
open and per close itself (at debug), so those two are dropped here.
"""

from __future__ import annotations

import logging
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class QuietSockets(logging.Filter):
    """Drop uvicorn's per-socket lines: the endpoint's own open/close lines replace them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("uvicorn"):
            return True
        msg = record.msg if isinstance(record.msg, str) else ""
        if msg in ("connection open", "connection closed"):
            return False
        return not (msg.endswith("[accepted]") and "WebSocket" in msg)


def config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict, also handed to uvicorn (and so to each worker)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"quiet_sockets": {"()": QuietSockets}},
        "formatters": {"plain": {"format": FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "filters": ["quiet_sockets"],
            },
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's loggers carry no handler of their own: everything goes through root.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            "websockets": {"handlers": [], "level": "WARNING", "propagate": True},
            # "Running Sqlite version 3.4" on every engine made; the migration line says enough
            "piccolo": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
