"""Every list of the API is answered by an index in its own order: no table scan, no sort (SQLite's query plans)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.enums import InvoiceStatus, SubscriptionStatus
from app.models import Customer, Invoice, PaymentMethod, Subscription
from app.services.customer_records import list_customer_objects
from app.services.invoice_records import list_invoice_objects, list_payment_method_objects
from app.services.subscription_records import list_subscription_objects
from benchmarks.queries import captured_statements
from tests.conftest import only_on
from tests.unit.portal_support import merchant_id_of


def _lists(session: Session, merchant_id: str) -> dict[str, Callable[[], object]]:
    """Each list the API offers, with a filter value and a cursor that exist."""
    customer = session.scalars(select(Invoice.customer_id).where(Invoice.merchant_id == merchant_id).limit(1)).one()
    subscription = session.scalars(select(Subscription.id).where(Subscription.customer_id == customer).limit(1)).one()
    cursor = {
        "customer": session.scalars(select(Customer.id).where(Customer.merchant_id == merchant_id).limit(1)).one(),
        "subscription": subscription,
        "invoice": session.scalars(select(Invoice.id).where(Invoice.merchant_id == merchant_id).limit(1)).one(),
    }
    email = session.get_one(Customer, customer).email
    common: dict[str, Any] = {"session": session, "merchant_id": merchant_id, "limit": 100}
    return {
        "customers": lambda: list_customer_objects(**common, starting_after=cursor["customer"]),
        "customers by email": lambda: list_customer_objects(**common, email=email),
        "subscriptions": lambda: list_subscription_objects(**common, starting_after=cursor["subscription"]),
        "subscriptions by status": lambda: list_subscription_objects(**common, status=SubscriptionStatus.ACTIVE),
        "subscriptions by customer": lambda: list_subscription_objects(**common, customer_id=customer),
        "invoices": lambda: list_invoice_objects(**common, starting_after=cursor["invoice"]),
        "invoices by status": lambda: list_invoice_objects(**common, status=InvoiceStatus.PAID),
        "invoices by customer": lambda: list_invoice_objects(**common, customer_id=customer),
        "invoices by customer and status": lambda: list_invoice_objects(
            **common, customer_id=customer, status=InvoiceStatus.PAID
        ),
        "invoices by subscription": lambda: list_invoice_objects(**common, subscription_id=subscription),
        "payment methods": lambda: list_payment_method_objects(**common, customer_id=customer),
    }


LISTED = {"customers": Customer, "subscriptions": Subscription, "invoices": Invoice, "payment methods": PaymentMethod}


# Each list, and the index that must answer it in its own (newest first) order.
EXPECTED_INDEXES = {
    "customers": "ix_customers_merchant_created",
    "customers by email": "ix_customers_merchant_email",
    "subscriptions": "ix_subscriptions_merchant_created",
    "subscriptions by status": "ix_subscriptions_merchant_status_created",
    "subscriptions by customer": "ix_subscriptions_customer_created",
    "invoices": "ix_invoices_merchant_created",
    "invoices by status": "ix_invoices_merchant_status_created",
    "invoices by customer": "ix_invoices_customer_created",
    "invoices by customer and status": "ix_invoices_customer_status_created",
    "invoices by subscription": "ix_invoices_subscription",
    "payment methods": "ix_payment_methods_customer_order",
}


@only_on("sqlite", "SQLite's EXPLAIN QUERY PLAN")
@pytest.mark.parametrize("name", list(EXPECTED_INDEXES))
def test_the_list_uses_its_index_in_its_order(database: Database, name: str) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        listing = _lists(session, acme)[name]
        with captured_statements(database.engine) as seen:
            listing()
        table = LISTED[name.split(" by ")[0]].__tablename__
        plans = [
            " ".join(str(row[3]) for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in seen
            if f"FROM {table} " in f"{sql} " and "LIMIT" in sql
        ]
    assert len(plans) == 1, (name, plans)
    assert f"SEARCH {table} USING INDEX {EXPECTED_INDEXES[name]} " in plans[0], plans[0]
    assert "TEMP B-TREE" not in plans[0], plans[0]
