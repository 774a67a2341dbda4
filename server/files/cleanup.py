"""The job that removes uploads never attached to a message or document (after a day)."""

from __future__ import annotations

import asyncio
import logging

import anyio

from server.background import BackgroundTask
from server.files import service
from server.settings import Settings

log = logging.getLogger("carethread.files")


class UnattachedCleanup:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop = BackgroundTask("file-cleanup", self._run)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        while True:
            try:
                while await service.remove_unattached(self._settings) > 0:
                    pass
                await anyio.to_thread.run_sync(service.remove_stale_staging, self._settings)
            except Exception:
                log.exception("file cleanup pass failed; retrying")
            await asyncio.sleep(self._settings.file_cleanup_poll_seconds)
