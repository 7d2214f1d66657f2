"""Builds a large merchant for benchmarks: 100,000 customers, 150,000 subscriptions, 1,000,000 invoices."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from app.db import Database
from app.models import (
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Merchant,
    PaymentMethod,
    Price,
    PriceInterval,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    new_id,
)
from app.services.accounts import create_merchant
from app.services.demo_data import FIRST_NAMES, LAST_NAMES

BENCH_EMAIL = "owner@bench.test"
CHUNK = 20_000


@dataclass(frozen=True)
class Volume:
    customers: int = 100_000
    subscriptions: int = 150_000
    invoices: int = 1_000_000


@dataclass(frozen=True)
class BulkResult:
    merchant_id: str
    customer_ids: list[str]  # customer i was created at `now - i minutes`
    now: datetime
    seconds: float


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk(engine: Engine, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for batch in _chunks(rows):
            connection.execute(insert(table), batch)


def build(database: Database, volume: Volume, *, password: str, now: datetime | None = None) -> BulkResult:
    """Insert the volume with Core bulk inserts (minutes, not hours); deterministic for a given volume."""
    started = time.perf_counter()
    now = now or datetime(2026, 11, 26, tzinfo=UTC)
    rng = random.Random(7)
    with database.transaction() as session:
        merchant_id = create_merchant(
            session=session, business_name="Bench Co", email=BENCH_EMAIL, password=password
        ).merchant_id
        product = Product(merchant_id=merchant_id, name="Bench plan")
        session.add(product)
        session.flush()
        prices = [
            Price(
                merchant_id=merchant_id,
                product_id=product.id,
                nickname=f"Plan {amount}",
                unit_amount=amount,
                currency="USD",
                interval=PriceInterval.MONTH,
            )
            for amount in (900, 2900, 9900)
        ]
        session.add_all(prices)
        session.flush()
        price_ids = [price.id for price in prices]
    engine = database.engine
    customer_id = new_id("cus")
    customer_ids = [customer_id() for _ in range(volume.customers)]
    _bulk(
        engine,
        Customer.__table__,
        (
            {
                "id": identifier,
                "merchant_id": merchant_id,
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {index}",
                "email": f"customer{index}@bench{index % 97}.example",
                "created_at": now - timedelta(minutes=index),
                "address_country": "US",
            }
            for index, identifier in enumerate(customer_ids)
        ),
    )
    payment_id = new_id("pm")
    _bulk(
        engine,
        PaymentMethod.__table__,
        (
            {
                "id": payment_id(),
                "customer_id": identifier,
                "brand": "visa",
                "last4": "4242",
                "exp_month": 12,
                "exp_year": now.year + 3,
                "is_default": True,
                "created_at": now,
            }
            for identifier in customer_ids
        ),
    )
    subscription_id, item_id = new_id("sub"), new_id("si")
    subscriptions = [
        (subscription_id(), customer_ids[index % volume.customers]) for index in range(volume.subscriptions)
    ]
    statuses = list(SubscriptionStatus)
    _bulk(
        engine,
        Subscription.__table__,
        (
            {
                "id": identifier,
                "merchant_id": merchant_id,
                "customer_id": owner,
                "status": statuses[index % len(statuses)],
                "current_period_start": now - timedelta(days=index % 30),
                "current_period_end": now + timedelta(days=30 - index % 30),
                "cancel_at_period_end": index % 11 == 0,
                "created_at": now - timedelta(days=400),
            }
            for index, (identifier, owner) in enumerate(subscriptions)
        ),
    )
    _bulk(
        engine,
        SubscriptionItem.__table__,
        (
            {"id": item_id(), "subscription_id": identifier, "price_id": price_ids[index % 3], "quantity": 1}
            for index, (identifier, _) in enumerate(subscriptions)
        ),
    )
    invoice_id, line_id = new_id("in"), new_id("il")
    invoices = [(invoice_id(), *subscriptions[index % volume.subscriptions], index) for index in range(volume.invoices)]
    invoice_statuses = (InvoiceStatus.PAID, InvoiceStatus.PAID, InvoiceStatus.PAID, InvoiceStatus.OPEN)
    _bulk(
        engine,
        Invoice.__table__,
        (
            {
                "id": identifier,
                "merchant_id": merchant_id,
                "customer_id": owner,
                "subscription_id": subscription,
                "number": f"BEN-{index + 1:07d}",
                "status": invoice_statuses[index % 4],
                "billing_reason": "subscription_cycle",
                "currency": "USD",
                "subtotal": 2900,
                "total": 2900,
                "amount_due": 0 if index % 4 else 2900,
                "amount_paid": 2900 if index % 4 else 0,
                "period_start": now - timedelta(days=30 * (index // volume.subscriptions + 1)),
                "period_end": now - timedelta(days=30 * (index // volume.subscriptions)),
                "created_at": now - timedelta(days=30 * (index // volume.subscriptions + 1)),
            }
            for identifier, subscription, owner, index in invoices
        ),
    )
    _bulk(
        engine,
        InvoiceLine.__table__,
        (
            {
                "id": line_id(),
                "invoice_id": identifier,
                "position": 0,
                "description": "1 × Bench plan",
                "quantity": 1,
                "unit_amount": 2900,
                "amount": 2900,
                "proration": False,
            }
            for identifier, *_ in invoices
        ),
    )
    with database.transaction() as session:
        merchant = session.get_one(Merchant, merchant_id)
        merchant.invoice_prefix = "BEN"
        merchant.next_invoice_number = volume.invoices + 1
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")  # fresh statistics, as a long-running database would have
    return BulkResult(
        merchant_id=merchant_id, customer_ids=customer_ids, now=now, seconds=time.perf_counter() - started
    )
