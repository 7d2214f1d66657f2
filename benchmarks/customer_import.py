"""CSV import at volume: `python -m app import-customers`' service on 100,000 rows in SQLite, judged as a ratio to a
plain bulk insert of the same rows into the same table (the baseline, measured in the same run), with the process's
resident memory before and after (the file is streamed, so it must not grow with the rows), and a second import of
the same file (which must change nothing, and is judged by its ratio too).

Both are timed in this thread's CPU time (the import and SQLite run in it), which other processes on a shared
machine inflate far less than wall-clock time; the wall-clock seconds, the calibration loop and the load average
are recorded beside them. The issue's target, 100,000 rows in under 60 s, is RATIO_LIMIT: see its comment.

    python -m benchmarks.customer_import [--rows 100000]     (part of `make bench`)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from app.clock import system_clock
from app.config import load_settings
from app.db import Database, migrate
from app.enums import EventSource
from app.gateways import build_gateway
from app.models import Customer, Merchant, new_id
from app.services.catalog import PriceTerms, create_price, create_product
from app.services.customer_import import ImportResult, import_customers
from app.services.events import Actor
from benchmarks.timing import calibration_ms

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 60.0  # the target at normal machine speed
# The import's CPU time / the bulk insert's CPU time. The bulk insert of 100,000 rows took 17.95 and 18.50 CPU s in
# two runs on 2 December with the calibration loop at 81 and 84 CPU ms; scaled to a quiet machine's 31 ms that is
# 6.9 s, so 60 s is 60 / 6.9 = 8.7 bulk inserts, rounded down (history.md, "The CSV import").
BULK_INSERT_NORMAL_SECONDS = 6.9
RATIO_LIMIT = 8.5
QUIET_CALIBRATION_CPU_MS = 31.0
HEADER = "email,name,phone,locale,address_line1,address_city,address_postal_code,address_country\n"
SUBSCRIPTION_ROWS = 1_000  # rows with a price take the per-subscription path, a subscription and invoice each


@dataclass(frozen=True)
class ImportFigures:
    rows: int
    bulk_insert_seconds: float  # baseline: the same rows inserted by Core in chunks of 10,000 (wall clock)
    bulk_insert_cpu_seconds: float
    import_seconds: float
    import_cpu_seconds: float
    ratio: float  # import / bulk insert, CPU time: the verdict
    second_import_seconds: float
    second_import_cpu_seconds: float
    second_ratio: float  # second import / bulk insert, CPU time
    second_import_changes: int  # customers created or updated by the second import: 0
    rss_before_mb: float
    rss_after_mb: float
    peak_rss_mb: float
    calibration_wall_ms: float  # the calibration loop (benchmarks/timing.py) after the run; about 31 ms when quiet
    calibration_cpu_ms: float
    load_average: float  # one-minute load average before the run (2 cores)
    subscription_rows: int  # a second file whose rows have a price: each starts a subscription (not judged)
    subscription_import_seconds: float
    subscription_import_cpu_seconds: float
    subscriptions_started: int

    @property
    def met(self) -> bool:
        return self.ratio <= RATIO_LIMIT and self.second_ratio <= RATIO_LIMIT and self.second_import_changes == 0


def _row(index: int) -> str:
    phone = "+44 20 7946 0958" if index % 3 == 0 else ""
    locale = "de_DE" if index % 5 == 0 else ""
    return f"user{index}@example.com,User {index},{phone},{locale},{index} Main St,London,EC1A 1BB,GB\n"


def _write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write(HEADER)
        for index in range(rows):
            file.write(_row(index))


def _rss_mb() -> float:
    """The resident memory now (not the peak), from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def _database(folder: Path, name: str) -> tuple[Database, str]:
    database = Database(f"sqlite:///{folder / name}")
    migrate(database.engine)
    merchant_id = new_id("acct")()
    with database.engine.begin() as connection:
        connection.execute(insert(Merchant.__table__), [{"id": merchant_id, "public_business_name": "Import Co"}])
    return database, merchant_id


def _bulk_insert(folder: Path, rows: int) -> tuple[float, float]:
    """The baseline: the same customers (already clean) inserted by Core into a fresh database, with its triggers;
    (wall-clock, CPU) seconds."""
    database, merchant_id = _database(folder, "baseline.db")
    started, cpu_started = time.perf_counter(), time.thread_time()
    with database.engine.begin() as connection:
        for start in range(0, rows, 10_000):
            batch = []
            for index in range(start, min(start + 10_000, rows)):
                batch.append(
                    {
                        "id": new_id("cus")(),
                        "merchant_id": merchant_id,
                        "email": f"user{index}@example.com",
                        "name": f"User {index}",
                        "phone": "+44 20 7946 0958" if index % 3 == 0 else "",
                        "locale": "de_DE" if index % 5 == 0 else "",
                        "address_line1": f"{index} Main St",
                        "address_city": "London",
                        "address_postal_code": "EC1A 1BB",
                        "address_country": "GB",
                        "created_at": system_clock(),
                    }
                )
            connection.execute(insert(Customer.__table__), batch)
    seconds, cpu_seconds = time.perf_counter() - started, time.thread_time() - cpu_started
    database.dispose()
    return seconds, cpu_seconds


def _import(database: Database, merchant_id: str, path: Path, folder: Path) -> tuple[float, float, ImportResult]:
    """Import the file at `path`: (wall-clock seconds, CPU seconds, result)."""
    settings = load_settings(data_dir=folder, database_url=str(database.engine.url), _env_file=None)
    started, cpu_started = time.perf_counter(), time.thread_time()
    result = import_customers(
        database=database,
        merchant_id=merchant_id,
        open_file=lambda: path.open("rb"),
        gateway=build_gateway(settings),
        actor=Actor(source=EventSource.MERCHANT),
        clock=system_clock,
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.thread_time() - cpu_started
    if not result.imported or result.problems:
        raise RuntimeError(f"the benchmark's file was refused: {result.problems[:5]}")
    return seconds, cpu_seconds, result


def _subscriptions(folder: Path, rows: int) -> tuple[float, float, int]:
    """A file of `rows` new customers with a price (every other one with a trial) into a fresh database."""
    database, merchant_id = _database(folder, "subscriptions.db")
    with database.transaction() as session:
        product = create_product(session=session, merchant_id=merchant_id, name="Pro")
        terms = PriceTerms(2900, "EUR", "month")
        price = create_price(session=session, merchant_id=merchant_id, product_id=product.id, terms=terms)
    trial_end = (system_clock() + timedelta(days=14)).date().isoformat()
    path = folder / "subscriptions.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write("email,name,price,quantity,trial_end\n")
        for index in range(rows):
            file.write(f"sub{index}@example.com,Sub {index},{price.id},1,{trial_end if index % 2 else ''}\n")
    seconds, cpu_seconds, result = _import(database, merchant_id, path, folder)
    database.dispose()
    return seconds, cpu_seconds, result.subscriptions_started


def measure_import(rows: int, subscription_rows: int = SUBSCRIPTION_ROWS) -> ImportFigures:
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="portal-bench-import-") as name:
        folder = Path(name)
        csv_path = folder / "customers.csv"
        _write_file(csv_path, rows)
        baseline, baseline_cpu = _bulk_insert(folder, rows)
        database, merchant_id = _database(folder, "import.db")

        def run() -> tuple[float, float, int]:
            seconds, cpu_seconds, result = _import(database, merchant_id, csv_path, folder)
            return seconds, cpu_seconds, result.created + result.updated

        rss_before = _rss_mb()
        seconds, cpu_seconds, _changes = run()
        rss_after = _rss_mb()
        second_seconds, second_cpu_seconds, second_changes = run()
        with database.transaction() as session:
            count = session.scalar(
                select(func.count()).select_from(Customer).where(Customer.merchant_id == merchant_id)
            )
        if count != rows:
            raise RuntimeError(f"{count} customers after importing {rows} rows")
        database.dispose()
        subscription_seconds, subscription_cpu_seconds, started = _subscriptions(folder, subscription_rows)
    calibration_wall_ms, calibration_cpu_ms = calibration_ms(3)
    return ImportFigures(
        rows=rows,
        bulk_insert_seconds=baseline,
        bulk_insert_cpu_seconds=baseline_cpu,
        import_seconds=seconds,
        import_cpu_seconds=cpu_seconds,
        ratio=cpu_seconds / baseline_cpu,
        second_import_seconds=second_seconds,
        second_import_cpu_seconds=second_cpu_seconds,
        second_ratio=second_cpu_seconds / baseline_cpu,
        second_import_changes=second_changes,
        rss_before_mb=rss_before,
        rss_after_mb=rss_after,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        calibration_wall_ms=calibration_wall_ms,
        calibration_cpu_ms=calibration_cpu_ms,
        load_average=load_average,
        subscription_rows=subscription_rows,
        subscription_import_seconds=subscription_seconds,
        subscription_import_cpu_seconds=subscription_cpu_seconds,
        subscriptions_started=started,
    )


def report(figures: ImportFigures) -> str:
    def verdict(ratio: float) -> str:
        return "met" if ratio <= RATIO_LIMIT else "**not met**"

    baseline = f"a bulk insert of the same rows ({figures.bulk_insert_cpu_seconds:.2f} CPU s)"
    # An estimate only: CPU seconds scaled by how much slower the calibration loop's core was than a quiet one.
    quiet = QUIET_CALIBRATION_CPU_MS / figures.calibration_cpu_ms
    return "\n".join(
        [
            f"# Customer import benchmark ({figures.rows:,} rows, SQLite)",
            "",
            "| | result | target |",
            "| --- | --- | --- |",
            f"| import of {figures.rows:,} rows | {verdict(figures.ratio)}: ratio {figures.ratio:.2f} to {baseline}; "
            f"{figures.import_cpu_seconds:.1f} CPU s, {figures.import_seconds:.1f} s wall clock "
            f"(bulk insert {figures.bulk_insert_seconds:.2f} s); about {figures.import_cpu_seconds * quiet:.0f} s "
            f"at normal speed | ≤ {RATIO_LIMIT:g} (≤ {TARGET_SECONDS:.0f} s at normal speed, where the bulk insert of "
            f"100,000 rows takes about {BULK_INSERT_NORMAL_SECONDS:g} s) |",
            f"| second import of the same file | {verdict(figures.second_ratio)}: ratio {figures.second_ratio:.2f}; "
            f"{figures.second_import_cpu_seconds:.1f} CPU s, {figures.second_import_seconds:.1f} s wall clock, about "
            f"{figures.second_import_cpu_seconds * quiet:.0f} s at normal speed; "
            f"{figures.second_import_changes} changes | ≤ {RATIO_LIMIT:g}; 0 changes |",
            f"| resident memory before / after / peak | {figures.rss_before_mb:.0f} / {figures.rss_after_mb:.0f} / "
            f"{figures.peak_rss_mb:.0f} MB | bounded (streamed) |",
            f"| {figures.subscription_rows:,} rows with a price (a subscription each, half with a trial) | "
            f"{figures.subscription_import_cpu_seconds:.1f} CPU s "
            f"({figures.subscription_import_cpu_seconds / max(figures.subscription_rows, 1) * 1000:.1f} ms a row), "
            f"{figures.subscription_import_seconds:.1f} s wall clock; {figures.subscriptions_started:,} started | "
            "not judged |",
            "",
            f"Calibration loop after the run: {figures.calibration_wall_ms:.0f} ms wall, "
            f"{figures.calibration_cpu_ms:.0f} ms CPU (about 31 ms on a quiet machine; see benchmarks/timing.py). "
            f"Load average before the run: {figures.load_average:.2f} (2 cores).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--subscription-rows", type=int, default=SUBSCRIPTION_ROWS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    figures = measure_import(args.rows, args.subscription_rows)
    markdown = report(figures)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "customer-import.md").write_text(markdown + "\n")
    (args.output / "customer-import.json").write_text(json.dumps(asdict(figures), indent=2) + "\n")
    print(markdown)
    return 0 if figures.met else 1


if __name__ == "__main__":
    raise SystemExit(main())
