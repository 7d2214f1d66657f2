"""CSV import at volume: `python -m app import-customers`' service on 100,000 rows in SQLite, judged as a ratio to a
plain bulk insert of the same rows into the same table (the baseline, measured in the same run), with the process's
resident memory before and after (the file is streamed, so it must not grow with the rows), and a second import of
the same file (which must change nothing).

    python -m benchmarks.customer_import [--rows 100000]     (part of `make bench`)
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, insert, select

from app.clock import system_clock
from app.config import load_settings
from app.db import Database, migrate
from app.enums import EventSource
from app.gateways import build_gateway
from app.models import Customer, Merchant, new_id
from app.services.customer_import import import_customers
from app.services.events import Actor
from benchmarks.timing import calibration_ms

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 60.0
HEADER = "email,name,phone,locale,address_line1,address_city,address_postal_code,address_country\n"


@dataclass(frozen=True)
class ImportFigures:
    rows: int
    bulk_insert_seconds: float  # baseline: the same rows inserted by Core in chunks of 10,000
    import_seconds: float
    ratio: float  # import / bulk insert
    second_import_seconds: float
    second_import_changes: int  # customers created or updated by the second import: 0
    rss_before_mb: float
    rss_after_mb: float
    peak_rss_mb: float
    calibration_wall_ms: float


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


def _bulk_insert(folder: Path, rows: int) -> float:
    """The baseline: the same customers (already clean) inserted by Core into a fresh database, with its triggers."""
    database, merchant_id = _database(folder, "baseline.db")
    started = time.perf_counter()
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
    seconds = time.perf_counter() - started
    database.dispose()
    return seconds


def measure_import(rows: int) -> ImportFigures:
    with tempfile.TemporaryDirectory(prefix="portal-bench-import-") as name:
        folder = Path(name)
        csv_path = folder / "customers.csv"
        _write_file(csv_path, rows)
        baseline = _bulk_insert(folder, rows)
        database, merchant_id = _database(folder, "import.db")
        settings = load_settings(data_dir=folder, database_url=f"sqlite:///{folder / 'import.db'}", _env_file=None)
        gateway = build_gateway(settings)
        actor = Actor(source=EventSource.MERCHANT)

        def run() -> tuple[float, int]:
            started = time.perf_counter()
            result = import_customers(
                database=database,
                merchant_id=merchant_id,
                open_file=lambda: csv_path.open("rb"),
                gateway=gateway,
                actor=actor,
                clock=system_clock,
            )
            if not result.imported or result.problems:
                raise RuntimeError(f"the benchmark's file was refused: {result.problems[:5]}")
            return time.perf_counter() - started, result.created + result.updated

        rss_before = _rss_mb()
        seconds, _changes = run()
        rss_after = _rss_mb()
        second_seconds, second_changes = run()
        with database.transaction() as session:
            count = session.scalar(
                select(func.count()).select_from(Customer).where(Customer.merchant_id == merchant_id)
            )
        if count != rows:
            raise RuntimeError(f"{count} customers after importing {rows} rows")
        database.dispose()
    return ImportFigures(
        rows=rows,
        bulk_insert_seconds=baseline,
        import_seconds=seconds,
        ratio=seconds / baseline,
        second_import_seconds=second_seconds,
        second_import_changes=second_changes,
        rss_before_mb=rss_before,
        rss_after_mb=rss_after,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        calibration_wall_ms=calibration_ms(3)[0],
    )


def report(figures: ImportFigures) -> str:
    met = "met" if figures.import_seconds <= TARGET_SECONDS else "**not met**"
    return "\n".join(
        [
            f"# Customer import benchmark ({figures.rows:,} rows, SQLite)",
            "",
            "| | result | target |",
            "| --- | --- | --- |",
            f"| import of {figures.rows:,} rows | {met}: {figures.import_seconds:.1f} s, ratio {figures.ratio:.1f} "
            f"to a bulk insert of the same rows ({figures.bulk_insert_seconds:.2f} s) | ≤ {TARGET_SECONDS:.0f} s |",
            f"| second import of the same file | {figures.second_import_seconds:.1f} s, "
            f"{figures.second_import_changes} changes | 0 changes |",
            f"| resident memory before / after / peak | {figures.rss_before_mb:.0f} / {figures.rss_after_mb:.0f} / "
            f"{figures.peak_rss_mb:.0f} MB | bounded (streamed) |",
            "",
            f"Calibration loop: {figures.calibration_wall_ms:.0f} ms wall (see benchmarks/timing.py).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    figures = measure_import(args.rows)
    markdown = report(figures)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "customer-import.md").write_text(markdown + "\n")
    (args.output / "customer-import.json").write_text(json.dumps(asdict(figures), indent=2) + "\n")
    print(markdown)
    return 0 if figures.import_seconds <= TARGET_SECONDS and figures.second_import_changes == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
