"""The billing clock at volume: 100,000 subscriptions that fall due at one moment, renewed and charged by the test
gateway, against a bulk insert of as many invoice rows into the same database (the baseline).

Also checked: every subscription was renewed and paid, the clock's memory stayed bounded (it works in batches,
not in one transaction), and a second run for the same moment does nothing.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select

from app.config import load_settings
from app.db import Database
from app.enums import InvoiceStatus, PaymentStatus, PriceInterval, SubscriptionStatus
from app.gateways import build_gateway
from app.models import (
    Customer,
    Invoice,
    Merchant,
    Payment,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    new_id,
)
from app.services.billing import advance

DUE = datetime(2026, 12, 1, tzinfo=UTC)
CHUNK = 10_000


@dataclass(frozen=True)
class ClockResult:
    subscriptions: int
    bulk_insert_seconds: float  # the baseline: as many invoice rows, inserted in chunks by Core
    run_seconds: float
    second_run_seconds: float
    renewed: int  # subscriptions whose new period started at the due moment
    paid: int  # their invoices, paid by the test gateway
    payments: int  # succeeded payment rows
    second_run_changes: int  # invoices created and payments made by the second run: 0
    rss_growth_mb: float  # how much the process's peak resident memory grew during the run
    run_cpu_seconds: float = 0.0  # the run's CPU time (this process): beside the wall-clock time on a shared machine
    load_average: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load average before and after the run


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(database: Database, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    with database.engine.begin() as connection:
        for batch in _chunks(rows):
            connection.execute(insert(table), batch)


def _build(database: Database, count: int) -> str:
    """A merchant with `count` customers, each with a good card and a monthly subscription ending at DUE."""
    merchant_id, product_id, price_id = new_id("acct")(), new_id("prod")(), new_id("price")()
    created = DUE - timedelta(days=40)
    _insert(database, Merchant.__table__, iter([{"id": merchant_id, "public_business_name": "Clock Co"}]))
    _insert(database, Product.__table__, iter([{"id": product_id, "merchant_id": merchant_id, "name": "Plan"}]))
    price = {
        "id": price_id,
        "merchant_id": merchant_id,
        "product_id": product_id,
        "unit_amount": 900,
        "currency": "USD",
        "interval": PriceInterval.MONTH.value,
    }
    _insert(database, Price.__table__, iter([price]))
    customer_ids = [f"cus_clock{index:07d}" for index in range(count)]
    _insert(
        database,
        Customer.__table__,
        (
            {"id": cid, "merchant_id": merchant_id, "name": f"Customer {cid}", "created_at": created}
            for cid in customer_ids
        ),
    )
    _insert(
        database,
        PaymentMethod.__table__,
        (
            {
                "id": f"pm_clock{index:07d}",
                "customer_id": cid,
                "brand": "visa",
                "last4": "4242",
                "exp_month": 12,
                "exp_year": 2034,
                "is_default": True,
                "gateway": "test",
                "gateway_payment_method_id": f"pm_test_clock{index:07d}",
                "created_at": created,
            }
            for index, cid in enumerate(customer_ids)
        ),
    )
    _insert(
        database,
        Subscription.__table__,
        (
            {
                "id": f"sub_clock{index:07d}",
                "merchant_id": merchant_id,
                "customer_id": cid,
                "status": SubscriptionStatus.ACTIVE.value,
                "current_period_start": DUE - timedelta(days=30),
                "current_period_end": DUE,
                "created_at": created,
            }
            for index, cid in enumerate(customer_ids)
        ),
    )
    _insert(
        database,
        SubscriptionItem.__table__,
        (
            {"id": f"si_clock{index:07d}", "subscription_id": f"sub_clock{index:07d}", "price_id": price_id}
            for index in range(count)
        ),
    )
    return merchant_id


def _baseline(database: Database, merchant_id: str, count: int) -> float:
    """Seconds to insert `count` invoice rows with Core (then removed again)."""
    started = time.perf_counter()
    _insert(
        database,
        Invoice.__table__,
        (
            {
                "id": f"in_base{index:07d}",
                "merchant_id": merchant_id,
                "customer_id": f"cus_clock{index:07d}",
                "number": f"BASE-{index:07d}",
                "status": InvoiceStatus.PAID.value,
                "billing_reason": "baseline",
                "currency": "USD",
                "total": 900,
                "created_at": DUE,
            }
            for index in range(count)
        ),
    )
    seconds = time.perf_counter() - started
    with database.transaction() as session:
        session.execute(delete(Invoice).where(Invoice.billing_reason == "baseline"))
    return seconds


def _counts(database: Database, merchant_id: str) -> tuple[int, int, int, int]:
    with database.transaction() as session:
        renewed = session.scalar(
            select(func.count()).where(
                Subscription.merchant_id == merchant_id, Subscription.current_period_start == DUE
            )
        )
        invoices = session.scalar(select(func.count()).where(Invoice.merchant_id == merchant_id))
        paid = session.scalar(
            select(func.count()).where(Invoice.merchant_id == merchant_id, Invoice.status == InvoiceStatus.PAID)
        )
        payments = session.scalar(
            select(func.count()).where(Payment.merchant_id == merchant_id, Payment.status == PaymentStatus.SUCCEEDED)
        )
    return renewed or 0, invoices or 0, paid or 0, payments or 0


def measure_billing_clock(database: Database, count: int, secret_key: str) -> ClockResult:
    merchant_id = _build(database, count)
    baseline = _baseline(database, merchant_id, count)
    gateway = build_gateway(load_settings(secret_key=secret_key, _env_file=None))
    peak_before = _peak_rss_mb()
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    advance(database=database, now=DUE, gateway=gateway)
    run_seconds, run_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    load_average = (load_before, os.getloadavg()[0])
    rss_growth = _peak_rss_mb() - peak_before
    renewed, invoices, paid, payments = _counts(database, merchant_id)
    started = time.perf_counter()
    second = advance(database=database, now=DUE, gateway=gateway)
    second_seconds = time.perf_counter() - started
    return ClockResult(
        subscriptions=count,
        bulk_insert_seconds=baseline,
        run_seconds=run_seconds,
        second_run_seconds=second_seconds,
        renewed=renewed,
        paid=paid,
        payments=payments,
        second_run_changes=second.invoices_created
        + second.payments_succeeded
        + second.payments_failed
        + (_counts(database, merchant_id)[1] - invoices),
        rss_growth_mb=rss_growth,
        run_cpu_seconds=run_cpu_seconds,
        load_average=load_average,
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
