"""`make bench`: data volume, HTTP load, memory per page and live-preview latency, written to benchmarks/results/."""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import socket
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.config import load_settings
from app.db import Database, migrate
from app.services.portal_links import issue_link
from benchmarks.bulk_data import BulkResult, Volume, build
from benchmarks.http_load import BROWSER_HEADERS, LoadResult, measure, rss_mb, running_server
from benchmarks.preview import measure_preview
from benchmarks.queries import QueryResult, run_query_benchmarks

RESULTS = Path(__file__).resolve().parent / "results"
# At 10 concurrent visitors the run lasts over 30 s: longer than the 20 s after which unconnected clients are
# pruned, so the steady state (pages built while earlier ones are freed) is what is measured.
HTTP_REQUESTS = {1: 200, 10: 1500, 50: 1000}
MEMORY_GETS = 300
PRUNE_WAIT_SECONDS = 25  # clients of GETs that never connect are pruned after 20 s (server/client_pruning.py)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _portal_urls(database: Database, bulk: BulkResult, secret_key: str, port: int, count: int) -> list[str]:
    settings = load_settings(
        database_url=str(database.engine.url), secret_key=secret_key, public_url=f"http://127.0.0.1:{port}"
    )
    with database.transaction() as session:
        return [
            issue_link(
                session=session,
                settings=settings,
                merchant_id=bulk.merchant_id,
                customer_id=customer_id,
                created_by="benchmark",
            ).url
            for customer_id in bulk.customer_ids[:count]
        ]


def run_http(database: Database, bulk: BulkResult, data_dir: Path) -> dict[str, Any]:
    port, secret_key = _free_port(), secrets.token_urlsafe(48)
    portal_urls = _portal_urls(database, bulk, secret_key, port, 200)
    health_url = f"http://127.0.0.1:{port}/healthz"
    results: list[LoadResult] = []
    with running_server(str(database.engine.url), data_dir, port, secret_key) as server:
        measure("warm-up", portal_urls[:20], 2)
        memory = _measure_memory(server.pid, portal_urls)  # first, before the load grows the heap
        for concurrency, requests in HTTP_REQUESTS.items():
            results.append(measure("healthz", [health_url] * requests, concurrency))
            urls = [portal_urls[index % len(portal_urls)] for index in range(requests)]
            results.append(measure("portal page", urls, concurrency))
    by_key = {(result.name, result.concurrency): result for result in results}
    ratios = {
        concurrency: by_key[("portal page", concurrency)].requests_per_second
        / by_key[("healthz", concurrency)].requests_per_second
        for concurrency in HTTP_REQUESTS
    }
    return {"load": [asdict(result) for result in results], "ratio_portal_to_healthz": ratios, "memory": memory}


def _measure_memory(pid: int, portal_urls: list[str]) -> dict[str, float]:
    """RSS per portal GET that never opens its websocket (link scanners, previews, closed tabs).

    Two batches: the first grows the heap to its working size (Python keeps freed memory for reuse rather than
    returning it), the second shows what each GET still retains once its client was pruned.
    """

    def batch() -> None:
        with httpx.Client(headers=BROWSER_HEADERS, timeout=30) as client:
            for index in range(MEMORY_GETS):
                client.get(portal_urls[index % len(portal_urls)]).raise_for_status()

    time.sleep(PRUNE_WAIT_SECONDS)  # the warm-up's clients are pruned first: a fixed window, not a condition
    before = rss_mb(pid)
    batch()
    after_first = rss_mb(pid)
    time.sleep(PRUNE_WAIT_SECONDS)  # the retention window is what is being measured
    pruned_first = rss_mb(pid)
    batch()
    time.sleep(PRUNE_WAIT_SECONDS)
    pruned_second = rss_mb(pid)
    return {
        "gets_per_batch": MEMORY_GETS,
        "rss_before_mb": before,
        "rss_after_first_batch_mb": after_first,
        "rss_after_first_prune_mb": pruned_first,
        "rss_after_second_prune_mb": pruned_second,
        "growth_per_get_mb": (after_first - before) / MEMORY_GETS,
        "retained_per_get_mb": (pruned_second - pruned_first) / MEMORY_GETS,
    }


def _targets(queries: list[QueryResult], http: dict[str, Any] | None, preview: dict[str, float]) -> dict[str, bool]:
    targets = {f"query: {query.name}": query.ok for query in queries}
    targets["preview p95 <= 30 ms"] = preview["p95_ms"] <= 30
    if http:
        load = {(row["name"], row["concurrency"]): row for row in http["load"]}
        targets["portal/healthz ratio at c=1 >= 0.02"] = http["ratio_portal_to_healthz"][1] >= 0.02
        targets["portal p95 at c=10 <= 250 ms"] = load[("portal page", 10)]["p95_ms"] <= 250
        targets["0 HTTP errors"] = all(row["errors"] == 0 for row in http["load"])
        targets["<= 0.1 MB retained per unconnected GET"] = http["memory"]["retained_per_get_mb"] <= 0.1
    return targets


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Benchmark results ({report['date']}, {report['machine']})",
        "",
        "Earlier runs, and what changed between them: `history.md` in this folder.",
        "",
        f"Volume: {report['volume']} built in {report['build_seconds']:.0f} s.",
        "",
        "| query | p50 ms | p95 ms | target ms | plan ok |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for query in report["queries"]:
        plan_ok = "yes" if not query["plan_problems"] else "no: " + "; ".join(query["plan_problems"]).strip()
        timing = f"{query['p50_ms']:.2f} | {query['p95_ms']:.2f} | {query['target_ms']:.0f}"
        lines.append(f"| {query['name']} | {timing} | {plan_ok} |")
    if report.get("http"):
        lines += ["", "| route | concurrency | requests | errors | req/s | p50 ms | p95 ms | p99 ms |"]
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in report["http"]["load"]:
            lines.append(
                f"| {row['name']} | {row['concurrency']} | {row['requests']} | {row['errors']} | "
                f"{row['requests_per_second']:.1f} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} |"
            )
        ratios = report["http"]["ratio_portal_to_healthz"]
        lines += ["", "Portal/healthz throughput ratio: " + ", ".join(f"c={c}: {r:.3f}" for c, r in ratios.items())]
        memory = report["http"]["memory"]
        lines.append(
            f"Memory: {memory['growth_per_get_mb']:.3f} MB per unconnected GET while its client lives, "
            f"{memory['retained_per_get_mb']:.3f} MB retained per GET once pruned (RSS {memory['rss_before_mb']:.0f}"
            f" → {memory['rss_after_first_batch_mb']:.0f} after {memory['gets_per_batch']} GETs → "
            f"{memory['rss_after_first_prune_mb']:.0f} pruned → {memory['rss_after_second_prune_mb']:.0f} MB after "
            "a second batch, pruned)."
        )
    preview = report["preview"]
    lines += ["", f"Live preview, one settings change: p50 {preview['p50_ms']:.1f} ms, p95 {preview['p95_ms']:.1f} ms."]
    lines += ["", "| target | met |", "| --- | --- |"]
    lines += [f"| {name} | {'yes' if met else 'NO'} |" for name, met in report["targets"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=Volume.customers)
    parser.add_argument("--subscriptions", type=int, default=Volume.subscriptions)
    parser.add_argument("--invoices", type=int, default=Volume.invoices)
    parser.add_argument("--skip-http", action="store_true", help="only the in-process measurements")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for latest.json and latest.md")
    args = parser.parse_args(argv)
    volume = Volume(customers=args.customers, subscriptions=args.subscriptions, invoices=args.invoices)
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        data_dir = Path(folder)
        database = Database(f"sqlite:///{data_dir / 'bench.db'}")
        migrate(database.engine)
        print(f"Building {volume} …", flush=True)
        bulk = build(database, volume, password=secrets.token_urlsafe(16))
        print(f"built in {bulk.seconds:.0f} s", flush=True)
        queries = run_query_benchmarks(database, bulk)
        for query in queries:
            print(f"{query.name}: p50 {query.p50_ms:.2f} ms, p95 {query.p95_ms:.2f} ms", flush=True)
        preview = measure_preview()
        http = None if args.skip_http else run_http(database, bulk, data_dir)
        database.dispose()
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        "volume": asdict(volume),
        "build_seconds": bulk.seconds,
        "queries": [asdict(query) for query in queries],
        "preview": preview,
        "http": http,
    }
    report["targets"] = _targets(queries, http, preview)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "latest.json").write_text(json.dumps(report, indent=2, default=str))
    markdown = _markdown(report)
    (args.output / "latest.md").write_text(markdown)
    print(markdown)
    return 0 if all(report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
