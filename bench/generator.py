"""The coordinator's side of the load generator: start worker processes, command them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

from bench.servers import ROOT

LINE_LIMIT = 1 << 30  # a step's RESULT line holds every latency sample


class Workers:
    """A group of `python -m bench.loadgen` processes, one spec each."""

    running: ClassVar[set[Workers]] = set()  # started and not yet stopped

    def __init__(self, specs: list[dict[str, Any]], workdir: Path, cpus: list[int] | None,
                 name: str) -> None:
        self.specs = specs
        self.workdir = workdir
        self.cpus = cpus
        self.name = name
        self.procs: list[asyncio.subprocess.Process] = []
        # The last `PROGRESS {...}` line of each worker: what a scenario that does not settle
        # had reached (e.g. sockets open so far).
        self.progress: dict[int, dict[str, Any]] = {}

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    async def start(self, timeout: float = 600) -> list[dict[str, Any]]:
        """Launch every worker and wait for each one's READY line."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        Workers.running.add(self)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT), env.get("PYTHONPATH", "")]
                                            if p)
        for i, spec in enumerate(self.specs):
            path = self.workdir / f"gen-{self.name}-{i}.json"
            path.write_text(json.dumps({**spec, "cpus": self.cpus}))
            errlog = open(self.workdir / f"gen-{self.name}-{i}.log", "ab")
            self.procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.loadgen", str(path), cwd=ROOT, env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=errlog,
                limit=LINE_LIMIT,
            ))
            errlog.close()
        return await asyncio.wait_for(self._collect("READY"), timeout)

    async def _collect(self, tag: str) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self._read(i, p, tag)
                                           for i, p in enumerate(self.procs))))

    def progress_total(self) -> dict[str, Any]:
        """The workers' last progress figures, summed."""
        total: dict[str, Any] = {}
        for figures in self.progress.values():
            for key, value in figures.items():
                if isinstance(value, int | float):
                    total[key] = total.get(key, 0) + value
        return total

    async def _read(self, index: int, proc: asyncio.subprocess.Process, tag: str
                    ) -> dict[str, Any]:
        assert proc.stdout is not None
        while True:
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"load generator {self.name} exited (see {self.workdir}/gen-{self.name}-*.log)")
            text = line.decode().strip()
            if text.startswith("PROGRESS "):
                self.progress[index] = json.loads(text[len("PROGRESS "):])
                continue
            if text == tag:
                return {}
            if text.startswith(tag + " "):
                result: dict[str, Any] = json.loads(text[len(tag) + 1:])
                return result

    def send(self, command: str) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write((command + "\n").encode())

    async def command(self, command: str, timeout: float = 600) -> list[dict[str, Any]]:
        """Send one command to every worker; each one's RESULT."""
        self.send(command)
        return await asyncio.wait_for(self._collect("RESULT"), timeout)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None and proc.stdin is not None:
                try:
                    proc.stdin.write(b"STOP\n")
                    proc.stdin.close()
                except (BrokenPipeError, ConnectionResetError):
                    pass
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        self.procs = []
        Workers.running.discard(self)
