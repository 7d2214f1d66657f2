"""`make bench`: data volume, queries, HTTP load, memory per page and the live preview, judged by ratios.

Each timed figure is divided by a baseline measured in the same run (benchmarks/targets.py) and judged against a
ratio limit, so a slow day on a shared machine gives the same verdicts as a fast one. Writes
benchmarks/results/latest.{json,md} and appends the run's targets and CPU calibration to history.md.

    python -m benchmarks.run [--quick] [--note "what else ran on the machine"] [--no-history]
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.config import load_settings
from app.db import Database, migrate
from app.services.api_keys import create_api_key
from app.services.portal_links import issue_link
from benchmarks.billing_clock import ClockResult, measure_billing_clock
from benchmarks.bulk_data import BulkResult, Volume, build
from benchmarks.http_load import (
    BROWSER_HEADERS,
    ApiCall,
    LoadResult,
    Request,
    measure,
    measure_alternating,
    rss_mb,
    running_server,
)
from benchmarks.preview import measure_preview
from benchmarks.queries import QueryResult, api_list_plans, plan_problems, run_query_benchmarks
from benchmarks.targets import Calibration, Figure, Run, Target, append_history, exit_code, targets_table
from benchmarks.timing import CALIBRATION_ITERATIONS, calibration_ms

RESULTS = Path(__file__).resolve().parent / "results"
MEMORY_GETS = 300
HTTP_ROUNDS = 5  # /healthz and the portal page take turns this many times at each concurrency
PRUNE_WAIT_SECONDS = 25  # clients of GETs that never connect are pruned after 20 s (server/client_pruning.py)

# Limits. Each ratio limit comes from the old absolute target divided by the baseline of a normal-speed run, and
# was widened where that left today's code less headroom than a slow day moves the ratio; "Ratio limits" in
# results/history.md shows the figures behind each.
QUERY_P95_LIMITS = {  # CPU-time p95 of the page's data load / p95 of a primary-key lookup
    "customer search (name/email substring)": 28.0,  # was 10 ms
    "customers list page (keyset)": 6.0,  # was 2 ms
    "customer details": 14.0,  # was 5 ms
    "portal view load": 14.0,  # was 5 ms
    "invoice history page": 6.0,  # was 2 ms
}
PREVIEW_P95_LIMIT = 75.0  # CPU-time p95 of a settings change / of one small fixed component; was 30 ms
PORTAL_LIMITS = [  # portal page / healthz at the same number of concurrent clients: (statistic, clients, limit)
    ("requests_per_second", 1, 0.2),  # issue #19: a page half as costly (0.10-0.14 before)
    ("requests_per_second", 10, 0.15),  # mean latency at 10 clients (0.08-0.12 before)
    ("p95_ms", 10, 12.0),
]
# The REST API against /healthz at the same concurrency: (route, statistic, clients, limit). From the issue's targets
# and /healthz on a normal-speed run (486 req/s, p95 2.55 ms at one client; 660 req/s, p95 45.3 ms at ten):
API_LIMITS = [
    ("API create customer", "requests_per_second", 10, 0.45),  # >= 300 created/s: 300 / 660
    ("API create customer", "p95_ms", 10, 2.2),  # p95 < 100 ms: 100 / 45.3
    ("API list customers, limit 100", "p95_ms", 1, 3.9),  # p95 < 10 ms: 10 / 2.55
    ("API retrieve customer", "p95_ms", 1, 3.9),  # p95 < 10 ms: 10 / 2.55
]
API_CREATE_CONCURRENCY = 10
# Per page load that never connects; megabytes do not drift with machine speed.
HELD_MB_LIMIT = 0.3  # while its client lives (0.6 before issue #19)
RETAINED_MB_LIMIT = 0.1  # once its client is pruned
# The billing clock over 100,000 subscriptions due at once / a Core bulk insert of 100,000 invoice rows: the issue's
# target was 120 s, and the bulk insert takes about 2.5 s on this machine at normal speed.
CLOCK_RATIO_LIMIT = 48.0
CLOCK_SECOND_RUN_LIMIT = 0.1  # a second run for the same moment / the same bulk insert
CLOCK_RSS_GROWTH_LIMIT_MB = 200.0  # the clock works in batches: its memory must not grow with the volume


@dataclass(frozen=True)
class Mode:
    """How much to build and load: the full run, or a quick one that checks the scheme in a few minutes."""

    name: str
    volume: Volume
    http_requests: dict[int, int]  # requests per number of concurrent clients
    measure_memory: bool  # three pruning windows: over a minute and a half
    report: str  # results/<report>.{json,md}
    clock_subscriptions: int = 100_000  # due at one moment for the billing clock figure


# In the full run 10 concurrent visitors last over 30 s: longer than the 20 s after which unconnected clients are
# pruned, so the steady state (pages built while earlier ones are freed) is what is measured.
FULL = Mode("full", Volume(), {1: 200, 10: 1500, 50: 1000}, measure_memory=True, report="latest")
# A tenth of the data, a fifth of the requests and no memory figures; quick.* is git-ignored, so latest.* stays
# the last full run.
QUICK = Mode(
    "quick",
    Volume(customers=10_000, subscriptions=15_000, invoices=100_000),
    {1: 100, 10: 300, 50: 250},
    measure_memory=False,
    report="quick",
    clock_subscriptions=10_000,
)


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


def _api_routes(database: Database, bulk: BulkResult, port: int, concurrency: int, requests: int) -> dict[str, Any]:
    """The REST API's routes measured at this concurrency: creating customers at ten clients, a page of 100 and a
    retrieve at one (each customer created once: the emails are new)."""
    if concurrency not in (1, API_CREATE_CONCURRENCY):
        return {}
    with database.transaction() as session:
        headers = {
            "Authorization": f"Bearer {create_api_key(session=session, merchant_id=bulk.merchant_id).secret}",
            "Accept": "application/json",
        }
    api = f"http://127.0.0.1:{port}/api/v1/customers"
    if concurrency == API_CREATE_CONCURRENCY:
        batch = secrets.token_hex(4)
        bodies = [
            {"email": f"bench-{batch}-{index}@example.com", "name": f"Bench {index}"} for index in range(requests)
        ]
        return {"API create customer": [ApiCall("POST", api, headers, body) for body in bodies]}
    customers = bulk.customer_ids  # one client
    return {
        "API list customers, limit 100": [ApiCall("GET", f"{api}?limit=100", headers)] * requests,
        "API retrieve customer": [
            ApiCall("GET", f"{api}/{customers[index * 37 % len(customers)]}", headers) for index in range(requests)
        ],
    }


def run_http(
    database: Database, bulk: BulkResult, data_dir: Path, mode: Mode, *, portal: bool = True
) -> dict[str, Any]:
    """Each route in turns with `/healthz` at each concurrency; `portal=False` measures the REST API alone."""
    port, secret_key = _free_port(), secrets.token_urlsafe(48)
    portal_urls = _portal_urls(database, bulk, secret_key, port, 200)
    health_url = f"http://127.0.0.1:{port}/healthz"
    results: list[LoadResult] = []
    with running_server(str(database.engine.url), data_dir, port, secret_key) as server:
        measure("warm-up", portal_urls[:20], 2)
        # First, before the load grows the heap.
        memory = _measure_memory(server.pid, portal_urls) if mode.measure_memory and portal else None
        for concurrency, requests in mode.http_requests.items():
            urls: list[Request] = [portal_urls[index % len(portal_urls)] for index in range(requests)]
            api = _api_routes(database, bulk, port, concurrency, requests)
            if not portal and not api:
                continue
            routes = {"healthz": [health_url] * requests, **({"portal page": urls} if portal else {}), **api}
            results += measure_alternating(routes, concurrency, HTTP_ROUNDS)
    return {"load": [asdict(result) for result in results], "memory": memory}


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


def judge_clock(clock: ClockResult) -> list[Target]:
    """The billing clock's targets: time and a second run against the bulk insert; completeness; memory."""
    count = f"{clock.subscriptions:,}"
    baseline = Figure(f"Core bulk insert of {count} invoice rows", clock.bulk_insert_seconds, "s")
    incomplete = clock.subscriptions - min(clock.renewed, clock.paid, clock.payments)
    return [
        Target(
            "billing clock",
            Figure(f"{count} subscriptions due at once, renewed and charged", clock.run_seconds, "s"),
            CLOCK_RATIO_LIMIT,
            baseline=baseline,
        ),
        Target("billing clock", Figure("subscriptions not renewed, invoiced and paid", incomplete, "subscriptions"), 0),
        Target(
            "billing clock",
            Figure("second run for the same moment", clock.second_run_seconds, "s"),
            CLOCK_SECOND_RUN_LIMIT,
            baseline=baseline,
        ),
        Target("billing clock", Figure("changes made by the second run", clock.second_run_changes, "rows"), 0),
        Target(
            "billing clock",
            Figure("peak memory growth during the run", clock.rss_growth_mb, "MB"),
            CLOCK_RSS_GROWTH_LIMIT_MB,
        ),
    ]


def judge(
    queries: list[QueryResult], api_plans: list[str], preview: dict[str, float], http: dict[str, Any] | None
) -> list[Target]:
    """Every target of the run, each timed figure beside the baseline it is divided by."""
    targets = [
        Target(
            "database",
            Figure(f"{query.name} p95", query.p95_ms, "CPU ms"),
            QUERY_P95_LIMITS[query.name],
            baseline=Figure("primary-key lookup p95", query.baseline_p95_ms, "CPU ms"),
        )
        for query in queries
    ]
    problems = sum(len(query.plan_problems) for query in queries) + len(plan_problems(api_plans))
    targets.append(Target("database", Figure("full scans of big tables and sorts in the plans", problems, "lines"), 0))
    targets.append(
        Target(
            "live preview",
            Figure("one settings change p95", preview["p95_ms"], "CPU ms"),
            PREVIEW_P95_LIMIT,
            baseline=Figure("one small fixed component p95", preview["baseline_p95_ms"], "CPU ms"),
        )
    )
    if http:
        targets += [
            _http_target(http["load"], "portal page", statistic, clients, limit)
            for statistic, clients, limit in PORTAL_LIMITS
        ]
        targets += [
            _http_target(http["load"], route, statistic, clients, limit)
            for route, statistic, clients, limit in API_LIMITS
        ]
        errors = sum(row["errors"] for row in http["load"])
        targets.append(Target("HTTP", Figure("failed requests", errors, "requests"), 0))
        if http["memory"]:
            held = http["memory"]["growth_per_get_mb"]
            figure = Figure("held per page load that never connects, while its client lives", held, "MB")
            targets.append(Target("memory", figure, HELD_MB_LIMIT))
            retained = http["memory"]["retained_per_get_mb"]
            figure = Figure("retained per page load that never connects, once pruned", retained, "MB")
            targets.append(Target("memory", figure, RETAINED_MB_LIMIT))
    return targets


def _http_target(load: list[dict[str, Any]], route: str, statistic: str, clients: int, limit: float) -> Target:
    """A route against /healthz at the same concurrency: throughput at least, or latency at most, limit×."""
    rows = {row["name"]: row for row in load if row["concurrency"] == clients}
    throughput = statistic == "requests_per_second"
    name = f"{'' if throughput else ' p95'}, {clients} client{'s' if clients > 1 else ''}"
    unit = "req/s" if throughput else "ms"
    return Target(
        "HTTP",
        Figure(f"{route}{name}", rows[route][statistic], unit),
        limit,
        baseline=Figure(f"/healthz{name}", rows["healthz"][statistic], unit),
        at_least=throughput,
    )


def _details(report: dict[str, Any]) -> list[str]:
    """The absolute figures behind the targets, for reading and for comparing runs by their calibration."""
    lines = [
        "| query, CPU time | p50 ms | p95 ms | primary-key lookup in turn with it, p50 / p95 ms | plan ok |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for query in report["queries"]:
        plan_ok = "yes" if not query["plan_problems"] else "no: " + "; ".join(query["plan_problems"]).strip()
        timing = f"{query['p50_ms']:.2f} | {query['p95_ms']:.2f}"
        baseline = f"{query['baseline_p50_ms']:.3f} / {query['baseline_p95_ms']:.3f}"
        lines.append(f"| {query['name']} | {timing} | {baseline} | {plan_ok} |")
    if report.get("http"):
        lines += ["", *_load_table(report["http"]["load"])]
        memory = report["http"]["memory"]
        if memory:
            lines.append("")
            lines.append(
                f"Memory: {memory['growth_per_get_mb']:.3f} MB per unconnected GET while its client lives, "
                f"{memory['retained_per_get_mb']:.3f} MB retained per GET once pruned (RSS "
                f"{memory['rss_before_mb']:.0f} → {memory['rss_after_first_batch_mb']:.0f} after "
                f"{memory['gets_per_batch']} GETs → {memory['rss_after_first_prune_mb']:.0f} pruned → "
                f"{memory['rss_after_second_prune_mb']:.0f} MB after a second batch, pruned)."
            )
    clock = report.get("billing_clock")
    if clock:
        lines += [
            "",
            f"Billing clock: {clock['subscriptions']:,} subscriptions due at one moment renewed and charged in "
            f"{clock['run_seconds']:.1f} s (bulk insert of as many invoice rows {clock['bulk_insert_seconds']:.2f} s), "
            f"a second run for the same moment {clock['second_run_seconds']:.3f} s; peak memory grew "
            f"{clock['rss_growth_mb']:.0f} MB.",
        ]
    preview = report["preview"]
    lines += [
        "",
        "Live preview, CPU time of one settings change: "
        f"p50 {preview['p50_ms']:.1f} ms, p95 {preview['p95_ms']:.1f} ms; "
        f"one small fixed component in turn with it: p50 {preview['baseline_p50_ms']:.2f} ms, "
        f"p95 {preview['baseline_p95_ms']:.2f} ms.",
    ]
    return lines


def _load_table(load: list[dict[str, Any]]) -> list[str]:
    lines = ["| route | concurrency | requests | errors | req/s | p50 ms | p95 ms | p99 ms |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in load:
        lines.append(
            f"| {row['name']} | {row['concurrency']} | {row['requests']} | {row['errors']} | "
            f"{row['requests_per_second']:.1f} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} |"
        )
    return lines


def _markdown(run: Run, report: dict[str, Any]) -> str:
    lines = [
        f"# Benchmark results ({run.date}, {run.mode} run, {report['machine']})",
        "",
        "Earlier runs, and what changed between them: `history.md` in this folder.",
        "",
        f"Volume: {run.volume}, built in {report['build_seconds']:.0f} s. Calibration: {run.calibration}.",
        "",
        "Targets: each timed figure divided by a baseline measured in the same run; `make bench` fails only when a "
        "target is missed.",
        "",
        targets_table(run.targets),
        "## Absolute figures",
        "",
        *_details(report),
    ]
    return "\n".join(lines) + "\n"


def _calibration(start: tuple[float, float], end: tuple[float, float]) -> Calibration:
    return Calibration(CALIBRATION_ITERATIONS, wall_ms=(start[0], end[0]), cpu_ms=(start[1], end[1]))


def _volume_text(volume: Volume) -> str:
    return f"{volume.customers:,} customers, {volume.subscriptions:,} subscriptions, {volume.invoices:,} invoices"


def _measure_clock(count: int) -> ClockResult:
    """The billing clock figure, in a database of its own (the big merchant's subscriptions are not all due)."""
    print(f"Billing clock: building {count:,} subscriptions due at one moment …", flush=True)
    with tempfile.TemporaryDirectory(prefix="portal-bench-clock-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'clock.db'}")
        migrate(database.engine)
        clock = measure_billing_clock(database, count, secrets.token_urlsafe(48))
        database.dispose()
    print(
        f"billing clock: {clock.run_seconds:.1f} s for {count:,} subscriptions "
        f"(bulk insert {clock.bulk_insert_seconds:.2f} s), second run {clock.second_run_seconds:.3f} s",
        flush=True,
    )
    return clock


def _clock_only(args: argparse.Namespace, mode: Mode, count: int) -> int:
    calibration_start = calibration_ms()
    clock = _measure_clock(count)
    run = Run(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        mode=f"{mode.name} billing clock",
        volume=f"{count:,} subscriptions due at one moment",
        calibration=_calibration(calibration_start, calibration_ms()),
        targets=judge_clock(clock),
        note=args.note,
    )
    markdown = "\n".join(
        [
            f"# Billing clock benchmark ({run.date}, {run.volume})",
            "",
            f"Calibration: {run.calibration}.",
            "",
            targets_table(run.targets),
            f"Absolute: {clock.run_seconds:.1f} s ({clock.run_seconds / count * 1000:.2f} ms a subscription; CPU "
            f"{clock.run_cpu_seconds:.1f} s; load average {clock.load_average[0]:.1f} before, "
            f"{clock.load_average[1]:.1f} after), bulk "
            f"insert {clock.bulk_insert_seconds:.2f} s, second run {clock.second_run_seconds:.3f} s; renewed "
            f"{clock.renewed:,}, paid {clock.paid:,}, payments {clock.payments:,}; peak memory grew "
            f"{clock.rss_growth_mb:.0f} MB.",
        ]
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "billing-clock.json").write_text(json.dumps({"run": run.date, **asdict(clock)}, indent=2))
    (args.output / "billing-clock.md").write_text(markdown + "\n")
    if not args.no_history:
        append_history(args.output / "history.md", run)
    print(markdown)
    return exit_code(run.targets)


def _api_only(args: argparse.Namespace, mode: Mode, volume: Volume) -> int:
    """The REST API's targets alone: its routes in turns with `/healthz`, at one client and at ten."""
    calibration_start = calibration_ms()
    with tempfile.TemporaryDirectory(prefix="portal-bench-api-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate(database.engine)
        bulk = build(database, volume, password=secrets.token_urlsafe(16))
        http = run_http(database, bulk, Path(folder), mode, portal=False)
        database.dispose()
    errors = sum(row["errors"] for row in http["load"])
    run = Run(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        mode=f"{mode.name} REST API",
        volume=_volume_text(volume),
        calibration=_calibration(calibration_start, calibration_ms()),
        targets=[_http_target(http["load"], *limit) for limit in API_LIMITS]
        + [Target("HTTP", Figure("failed requests", errors, "requests"), 0)],
        note=args.note,
    )
    heading = f"# REST API benchmark ({run.date}, {run.volume})"
    markdown = "\n".join(
        [heading, "", f"Calibration: {run.calibration}.", "", targets_table(run.targets), *_load_table(http["load"])]
    )
    if not args.no_history:
        append_history(args.output / "history.md", run)
    print(markdown)
    return exit_code(run.targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{_volume_text(QUICK.volume)}, shorter HTTP load, no memory measurement; writes quick.{{json,md}}",
    )
    parser.add_argument("--customers", type=int, help="override the mode's volume")
    parser.add_argument("--subscriptions", type=int, help="override the mode's volume")
    parser.add_argument("--invoices", type=int, help="override the mode's volume")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process measurements")
    parser.add_argument(
        "--clock-subscriptions", type=int, help="subscriptions due at once for the billing clock (0: skip it)"
    )
    parser.add_argument(
        "--only-billing-clock",
        action="store_true",
        help="measure only the billing clock; writes billing-clock.{json,md} and a history entry",
    )
    parser.add_argument(
        "--only-api",
        action="store_true",
        help="measure only the REST API against /healthz (the mode's customers); prints it and adds a history entry",
    )
    parser.add_argument("--note", default="", help="conditions of the run, recorded in history.md")
    parser.add_argument("--no-history", action="store_true", help="do not append the run to history.md")
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the reports and history.md")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    volume = Volume(
        customers=args.customers or mode.volume.customers,
        subscriptions=args.subscriptions or mode.volume.subscriptions,
        invoices=args.invoices or mode.volume.invoices,
    )
    clock_count = mode.clock_subscriptions if args.clock_subscriptions is None else args.clock_subscriptions
    if args.only_billing_clock:
        return _clock_only(args, mode, clock_count)
    if args.only_api:
        return _api_only(args, mode, volume)
    calibration_start = calibration_ms()
    print(f"Calibration: {calibration_start[0]:.0f} ms. Building {_volume_text(volume)} …", flush=True)
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        data_dir = Path(folder)
        database = Database(f"sqlite:///{data_dir / 'bench.db'}")
        migrate(database.engine)
        bulk = build(database, volume, password=secrets.token_urlsafe(16))
        print(f"built in {bulk.seconds:.0f} s", flush=True)
        queries = run_query_benchmarks(database, bulk)
        for query in queries:
            print(f"{query.name}: p50 {query.p50_ms:.2f} ms, p95 {query.p95_ms:.2f} ms", flush=True)
        api_plans = api_list_plans(database, bulk)
        print(f"REST API lists: {len(plan_problems(api_plans))} plan problems", flush=True)
        preview = measure_preview()
        http = None if args.skip_http else run_http(database, bulk, data_dir, mode)
        database.dispose()
    clock = _measure_clock(clock_count) if clock_count else None
    run = Run(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        mode=mode.name,
        volume=_volume_text(volume),
        calibration=_calibration(calibration_start, calibration_ms()),
        targets=judge(queries, api_plans, preview, http) + (judge_clock(clock) if clock else []),
        note=args.note,
    )
    report = {
        "date": run.date,
        "mode": run.mode,
        "note": run.note,
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        "volume": asdict(volume),
        "build_seconds": bulk.seconds,
        "calibration": asdict(run.calibration),
        "targets": [{**asdict(target), "value": target.value, "met": target.met} for target in run.targets],
        "queries": [asdict(query) for query in queries],
        "api_list_plans": api_plans,
        "preview": preview,
        "http": http,
        "billing_clock": asdict(clock) if clock else None,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / f"{mode.report}.json").write_text(json.dumps(report, indent=2, default=str))
    markdown = _markdown(run, report)
    (args.output / f"{mode.report}.md").write_text(markdown)
    if not args.no_history:
        append_history(args.output / "history.md", run)
    print(markdown)
    return exit_code(run.targets)


if __name__ == "__main__":
    sys.exit(main())
