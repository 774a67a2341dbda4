"""`carethread serve` and `carethread migrate` (also `python -m server`)."""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import os
import sys

from server import logs
from server.settings import SettingsError, get_settings


def _migrate() -> None:
    from server import db

    settings = get_settings()
    asyncio.run(db.migrate(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="carethread", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serving = sub.add_parser("serve", help="migrate the database, then serve HTTP and WebSocket")
    serving.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serving.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serving.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    serving.add_argument("--no-migrate", action="store_true", help="skip running migrations")
    serving.add_argument("--access-log", action="store_true",
                         default=os.environ.get("ACCESS_LOG", "0") == "1",
                         help="log every HTTP request (also ACCESS_LOG=1)")
    sub.add_parser("migrate", help="run pending database migrations and exit")
    args = parser.parse_args(argv)

    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.config.dictConfig(logs.config(level))
    try:
        settings = get_settings()
        if args.command == "migrate" or not args.no_migrate:
            _migrate()
    except SettingsError as exc:
        print(f"carethread: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        return 0

    from server.serving import serve

    serve(settings, args.host, args.port, args.workers, level=level,
          access_log=args.access_log)
    return 0
