"""HTTP load and memory measurements against a real server process (loopback only, bounded request counts)."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.timing import percentile

ROOT = Path(__file__).resolve().parent.parent
# NiceGUI answers bots with markdown; a browser user agent gets the real page.
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Accept": "text/html",
}

# Slow answers are measured, not failed: at 50 clients on a machine 14 times slower than a quiet one the last of
# 50 simultaneous portal requests waited 31 s. Only a server that stops answering should count as an error.
REQUEST_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class ApiCall:
    """A request other than a page GET: an API call with its method, JSON body and headers (2xx is success)."""

    method: str
    url: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None


Request = str | ApiCall  # a URL to GET, or an API call


@dataclass(frozen=True)
class LoadResult:
    name: str
    concurrency: int
    requests: int
    errors: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@contextmanager
def running_server(database_url: str, data_dir: Path, port: int, secret_key: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("NICEGUI_", "PYTEST_"))}
    env.update(
        DATABASE_URL=database_url,
        DATA_DIR=str(data_dir),
        PORT=str(port),
        HOST="127.0.0.1",
        SECRET_KEY=secret_key,
        DEMO_DATA="0",
        BILLING_CLOCK_INTERVAL_SECONDS="0",
        # The load comes from one address and leaves its pages unconnected: the per-address cap would answer 429.
        MAX_PAGES_PER_CLIENT_ADDRESS="0",
        MAX_PAGES_PER_PORTAL_LINK="0",
    )
    log = (data_dir / "bench-server.log").open("wb")
    process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}; see {data_dir / 'bench-server.log'}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)  # poll interval while the server starts
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


async def _drive(urls: list[Request], concurrency: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            request = queue.get_nowait()
            started = time.perf_counter()
            try:
                if isinstance(request, ApiCall):
                    response = await client.request(
                        request.method, request.url, json=request.json, headers=request.headers
                    )
                    failed = not response.is_success
                else:
                    failed = (await client.get(request)).status_code != 200
                if failed:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=BROWSER_HEADERS, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def measure_alternating(routes: dict[str, list[Request]], concurrency: int, rounds: int) -> list[LoadResult]:
    """Each route's requests in `rounds` chunks taken in turn, so that a route and its baseline see the same machine.

    Load from other processes comes and goes within a run; measured one after the other, a 0.5 s baseline and a
    30 s route can meet quite different machines.
    """
    latencies: dict[str, list[float]] = {name: [] for name in routes}
    errors = dict.fromkeys(routes, 0)
    elapsed = dict.fromkeys(routes, 0.0)
    for index in range(rounds):
        for name, urls in routes.items():
            chunk_latencies, chunk_errors, chunk_elapsed = asyncio.run(_drive(urls[index::rounds], concurrency))
            latencies[name] += chunk_latencies
            errors[name] += chunk_errors
            elapsed[name] += chunk_elapsed
    return [
        LoadResult(
            name=name,
            concurrency=concurrency,
            requests=len(urls),
            errors=errors[name],
            requests_per_second=len(urls) / elapsed[name],
            p50_ms=statistics.median(latencies[name]),
            p95_ms=percentile(latencies[name], 0.95),
            p99_ms=percentile(latencies[name], 0.99),
        )
        for name, urls in routes.items()
    ]


def measure(name: str, urls: list[Request], concurrency: int) -> LoadResult:
    (result,) = measure_alternating({name: urls}, concurrency, rounds=1)
    return result


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")
