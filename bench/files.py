"""`python -m bench.files`: file upload and download against copying the file on disk.

    python -m bench.files [--size-mb 20] [--parallel 10] [--out bench/results/files.json]

Starts `carethread serve` on the embedded defaults (SQLite, files in a folder beside it) in a
temporary folder, then measures in one run:

- copying a SIZE MB file on this disk (shutil.copyfile), the floor for anything that stores it;
- uploading it (POST /files, multipart) and downloading it (GET /files/{id}) over loopback;
- the server's resident memory (RSS, sampled every 20 ms) while PARALLEL uploads run at once,
  for SIZE MB files and for files a tenth of that size: the peak must not grow with file size
  (uploads are spooled to disk and copied in chunks, never held whole).

Figures, not assertions: a table on stdout and JSON in --out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import procstat
from bench.servers import HOST, ROOT, free_port


def _file(folder: Path, name: str, size: int) -> Path:
    """A PDF-typed file of random bytes (random: no compression or dedup flatters it)."""
    path = folder / name
    with open(path, "wb") as fh:
        fh.write(b"%PDF-1.4\n")
        left = size - 9
        while left > 0:
            chunk = os.urandom(min(left, 1 << 20))
            fh.write(chunk)
            left -= len(chunk)
    return path


async def _upload(http: httpx.AsyncClient, token: str, path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        resp = await http.post("/api/v1/files", headers={"Authorization": f"Bearer {token}"},
                               files={"file": (path.name + ".pdf", fh, "application/pdf")})
    resp.raise_for_status()
    return dict(resp.json()["file"])


async def _download(http: httpx.AsyncClient, token: str, file_id: str, dest: Path) -> int:
    size = 0
    async with http.stream("GET", f"/api/v1/files/{file_id}",
                           headers={"Authorization": f"Bearer {token}"}) as resp:
        resp.raise_for_status()
        with open(dest, "wb") as out:
            async for chunk in resp.aiter_bytes(1 << 18):
                out.write(chunk)
                size += len(chunk)
    return size


async def _peak_rss(pid: int, work: Any) -> tuple[int, int, float]:
    """(baseline RSS, peak RSS during `work`, seconds the work took)."""
    base = procstat.rss_bytes(pid)
    peak = base
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, procstat.rss_bytes(pid))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    start = time.perf_counter()
    await work
    elapsed = time.perf_counter() - start
    done.set()
    await sampler
    return base, peak, elapsed


async def run(size_mb: float, parallel: int) -> dict[str, Any]:
    size = int(size_mb * 1024 * 1024)
    work = Path(tempfile.mkdtemp(prefix="carethread-bench-files-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"DATABASE_URL": f"sqlite:///{work / 'carethread.db'}",
                "SECRET_KEY": secrets.token_urlsafe(40), "LOG_LEVEL": "WARNING",
                "MAX_UPLOAD_BYTES": str(max(size * 2, 25 * 1024 * 1024)),
                "PYTHONPATH": str(ROOT)})
    log = open(work / "server.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve", "--host", HOST,
                             "--port", str(port)], cwd=work, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    results: dict[str, Any] = {"size_mb": size_mb, "parallel": parallel}
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=300) as http:
            for _ in range(300):
                try:
                    if (await http.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            resp = await http.post("/api/v1/organizations", json={
                "name": "Bench", "owner": {"name": "B", "email": "bench@example.org",
                                           "password": "correct horse battery"}})
            token = resp.json()["token"]
            data = work / "data"
            data.mkdir()
            source = _file(data, "source", size)
            start = time.perf_counter()
            shutil.copyfile(source, data / "copy")
            copy_s = time.perf_counter() - start
            start = time.perf_counter()
            file = await _upload(http, token, source)
            upload_s = time.perf_counter() - start
            start = time.perf_counter()
            got = await _download(http, token, file["id"], data / "downloaded")
            download_s = time.perf_counter() - start
            assert got == size
            mb = size / (1024 * 1024)
            results["disk_copy_mb_s"] = round(mb / copy_s, 1)
            results["upload_mb_s"] = round(mb / upload_s, 1)
            results["download_mb_s"] = round(mb / download_s, 1)
            results["upload_vs_copy"] = round(copy_s / upload_s, 3)
            results["download_vs_copy"] = round(copy_s / download_s, 3)
            for label, each in (("full", size), ("tenth", size // 10)):
                files = [_file(data, f"{label}-{i}", each) for i in range(parallel)]
                base, peak, elapsed = await _peak_rss(proc.pid, asyncio.gather(
                    *[_upload(http, token, f) for f in files]))
                results[f"parallel_{label}"] = {
                    "file_mb": round(each / (1024 * 1024), 2),
                    "rss_before_mb": round(base / 2**20, 1),
                    "rss_peak_mb": round(peak / 2**20, 1),
                    "rss_growth_mb": round((peak - base) / 2**20, 1),
                    "seconds": round(elapsed, 2),
                    "mb_s": round(parallel * each / 2**20 / elapsed, 1),
                }
                for f in files:
                    f.unlink()
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    results["machine"] = procstat.machine_description()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=20)
    parser.add_argument("--parallel", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "files.json")
    args = parser.parse_args()
    results = asyncio.run(run(args.size_mb, args.parallel))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"{args.size_mb:g} MB file: disk copy {results['disk_copy_mb_s']} MB/s, "
          f"upload {results['upload_mb_s']} MB/s ({results['upload_vs_copy']}x copy), "
          f"download {results['download_mb_s']} MB/s ({results['download_vs_copy']}x copy)")
    for label in ("full", "tenth"):
        r = results[f"parallel_{label}"]
        print(f"{args.parallel} parallel uploads of {r['file_mb']} MB: RSS {r['rss_before_mb']}"
              f" -> peak {r['rss_peak_mb']} MB (+{r['rss_growth_mb']} MB), {r['mb_s']} MB/s")


if __name__ == "__main__":
    main()
