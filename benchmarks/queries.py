"""Query benchmarks on the bulk database: each page's data load against a primary-key lookup, and its query plans.

The baseline, one customer fetched by its primary key, is timed in turn with every sample of the load it is
compared to, in the same way (its own transaction, only the operation timed, in this thread's CPU time), so both
see the same machine.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from app.db import Database
from app.enums import InvoiceStatus, SubscriptionStatus
from app.keyset import encode_cursor
from app.models import Customer
from app.services.customer_records import list_customer_objects
from app.services.customers import get_customer_details, list_customers
from app.services.invoice_records import list_invoice_objects, list_payment_method_objects
from app.services.portal import list_invoices, load_portal_view
from app.services.portal_links import PortalAccess
from app.services.subscription_records import list_subscription_objects
from benchmarks.bulk_data import BulkResult
from benchmarks.timing import cpu_ms, percentile

BIG_TABLES = {
    "customers",
    "subscriptions",
    "subscription_items",
    "invoices",
    "invoice_lines",
    "payment_methods",
    "events",
    "portal_links",
}


@dataclass(frozen=True)
class QueryResult:
    name: str
    samples: int
    p50_ms: float
    p95_ms: float
    baseline_p50_ms: float
    baseline_p95_ms: float
    plans: list[str]
    plan_problems: list[str]


@contextmanager
def captured_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def plan_problems(plan_lines: list[str]) -> list[str]:
    """Full scans of big tables and temporary B-trees (sorts) are what breaks at 100,000 customers."""
    problems = []
    for line in plan_lines:
        words = line.split()
        full_scan = len(words) >= 2 and words[0] == "SCAN" and words[1] in BIG_TABLES and "USING" not in line
        if full_scan or "TEMP B-TREE" in line:
            problems.append(line)
    return problems


def explain(database: Database, operation: Callable[[Session], object]) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement one run of `operation` executes."""
    with captured_statements(database.engine) as statements, database.transaction() as session:
        operation(session)
    lines: list[str] = []
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            lines.append(statement.split("\n")[0][:100])
            lines.extend(f"    {row[-1]}" for row in rows)
    return lines


def api_list_plans(database: Database, bulk: BulkResult) -> list[str]:
    """The query plans of the REST API's lists (a page of 100 deep in each, and each filter), with their problems.

    Not `?email=`: with statistics saying an address has one customer, SQLite sorts that one row instead of reading
    the (merchant, email, created, id) index backwards; tests/api/test_api_list_plans.py checks the index serves it.
    """
    merchant_id, customer_id = bulk.merchant_id, bulk.customer_ids[len(bulk.customer_ids) // 2]
    common: dict[str, Any] = {"merchant_id": merchant_id, "limit": 100}
    operations: list[Callable[[Session], object]] = [
        lambda session: list_customer_objects(session=session, **common, starting_after=customer_id),
        lambda session: list_subscription_objects(session=session, **common, customer_id=customer_id),
        lambda session: list_subscription_objects(session=session, **common, status=SubscriptionStatus.PAST_DUE),
        lambda session: list_invoice_objects(session=session, **common),
        lambda session: list_invoice_objects(session=session, **common, customer_id=customer_id),
        lambda session: list_invoice_objects(session=session, **common, status=InvoiceStatus.OPEN),
        lambda session: list_payment_method_objects(session=session, **common, customer_id=customer_id),
    ]
    return [line for operation in operations for line in explain(database, operation)]


Operation = Callable[[random.Random], Callable[[Session], object]]


def _cpu_ms(database: Database, operation: Callable[[Session], object]) -> float:
    with database.transaction() as session:
        return cpu_ms(lambda: operation(session))


def time_operation(database: Database, name: str, make: Operation, baseline: Operation) -> QueryResult:
    rng = random.Random(name)
    samples: list[float] = []
    baseline_samples: list[float] = []
    for _ in range(220):
        baseline_samples.append(_cpu_ms(database, baseline(rng)))
        samples.append(_cpu_ms(database, make(rng)))
    samples, baseline_samples = samples[20:], baseline_samples[20:]  # warm-up
    plans = explain(database, make(rng))
    return QueryResult(
        name=name,
        samples=len(samples),
        p50_ms=statistics.median(samples),
        p95_ms=percentile(samples, 0.95),
        baseline_p50_ms=statistics.median(baseline_samples),
        baseline_p95_ms=percentile(baseline_samples, 0.95),
        plans=plans,
        plan_problems=plan_problems(plans),
    )


def run_query_benchmarks(database: Database, bulk: BulkResult) -> list[QueryResult]:
    merchant_id = bulk.merchant_id
    customers = bulk.customer_ids
    with database.engine.connect() as connection:
        names = [row[0] for row in connection.execute(text("SELECT name FROM customers LIMIT 2000"))]

    def lookup(rng: random.Random) -> Callable[[Session], object]:
        customer_id = rng.choice(customers)
        return lambda session: session.get(Customer, customer_id)

    def access(rng: random.Random) -> PortalAccess:
        return PortalAccess(link_id="bench", merchant_id=merchant_id, customer_id=rng.choice(customers), return_url="")

    def search(rng: random.Random) -> Callable[[Session], object]:
        name = rng.choice(names)
        start = rng.randrange(0, max(1, len(name) - 4))
        query = name[start : start + 4]
        return lambda session: list_customers(session=session, merchant_id=merchant_id, query=query)

    def list_page(rng: random.Random) -> Callable[[Session], object]:
        # Any depth of the list: the cursor of customer i, as the previous page would have handed it over.
        index = rng.randrange(len(customers))
        after = encode_cursor(bulk.now - timedelta(minutes=index), customers[index]) if index else None
        return lambda session: list_customers(session=session, merchant_id=merchant_id, after=after)

    def details(rng: random.Random) -> Callable[[Session], object]:
        customer_id = rng.choice(customers)
        return lambda session: get_customer_details(session=session, merchant_id=merchant_id, customer_id=customer_id)

    def portal(rng: random.Random) -> Callable[[Session], object]:
        link = access(rng)
        return lambda session: load_portal_view(session=session, access=link)

    def invoices(rng: random.Random) -> Callable[[Session], object]:
        link = access(rng)
        return lambda session: list_invoices(session=session, access=link, status=None, page=1)

    operations = {
        "customer search (name/email substring)": search,
        "customers list page (keyset)": list_page,
        "customer details": details,
        "portal view load": portal,
        "invoice history page": invoices,
    }
    return [time_operation(database, name, make, lookup) for name, make in operations.items()]
