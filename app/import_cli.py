"""`python -m app import-customers FILE.csv [--merchant acct_…] [--skip-invalid]`: the CSV import for scripts."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.clock import system_clock
from app.config import load_settings
from app.db import Database, ensure_migrated
from app.enums import EventSource
from app.gateways import build_gateway
from app.models import Merchant
from app.services.customer_import import ImportResult, import_customers
from app.services.events import Actor

MAX_PROBLEMS_SHOWN = 1000


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "import-customers",
        help="import customers (and subscriptions) from a CSV file",
        description="Columns: email (required), name, phone, locale, address_line1, address_line2, address_city, "
        "address_postal_code, address_state, address_country, price (price_…), quantity, trial_end (YYYY-MM-DD). "
        "UTF-8 with or without BOM, comma or semicolon. The whole file is checked first: with any bad row nothing is "
        "imported (exit status 1) unless --skip-invalid. A customer whose email exists is updated; importing the "
        "same file again changes nothing.",
    )
    parser.add_argument("file", type=Path, metavar="FILE.csv")
    parser.add_argument(
        "--merchant", metavar="acct_…", help="the merchant to import into (needed when there are several)"
    )
    parser.add_argument("--skip-invalid", action="store_true", help="import the valid rows and report the others")
    parser.set_defaults(handler=_import_customers)


def _import_customers(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"{args.file}: no such file.", file=sys.stderr)
        return 2
    settings = load_settings()
    database = Database(settings.effective_database_url)
    ensure_migrated(database.engine)
    with database.transaction() as session:
        merchants = list(session.scalars(select(Merchant.id).order_by(Merchant.created_at)))
    merchant_id = args.merchant or (merchants[0] if len(merchants) == 1 else None)
    if merchant_id not in merchants:
        known = ", ".join(merchants) or "none yet (python -m app create-merchant)"
        print(f"Choose the merchant with --merchant; merchants: {known}.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = import_customers(
        database=database,
        merchant_id=merchant_id,
        open_file=lambda: args.file.open("rb"),
        gateway=build_gateway(settings),
        actor=Actor(source=EventSource.MERCHANT, user_agent="python -m app import-customers"),
        clock=system_clock,
        skip_invalid=args.skip_invalid,
    )
    _report(result, time.perf_counter() - started)
    return 0 if result.imported and not result.problems else 1


def _report(result: ImportResult, seconds: float) -> None:
    for problem in result.problems[:MAX_PROBLEMS_SHOWN]:
        text = str(problem)
        print(text[:1].upper() + text[1:], file=sys.stderr)
    if len(result.problems) > MAX_PROBLEMS_SHOWN:
        print(f"… and {len(result.problems) - MAX_PROBLEMS_SHOWN} more problems.", file=sys.stderr)
    if not result.imported:
        bad = len({problem.line for problem in result.problems})
        print(
            f"Nothing was imported: {bad} of {result.rows} rows have problems (above). Fix them, or import the others "
            "with --skip-invalid.",
            file=sys.stderr,
        )
        return
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Imported {result.rows - result.skipped} of {result.rows} rows in {seconds:.1f} s: {result.created} customers "
        f"created, {result.updated} updated, {result.unchanged} unchanged, {result.subscriptions_started} "
        f"subscriptions started, {result.skipped} rows skipped (peak memory {peak_mb:.0f} MB)."
    )
