from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from app.db import Database, DatabaseNotMigrated, ensure_migrated, include_object
from app.models import (
    Base,
    Customer,
    Invoice,
    InvoiceStatus,
    Merchant,
    MerchantUser,
    PaymentMethod,
    Subscription,
    SubscriptionStatus,
)
from tests.conftest import DEMO_NOW


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_unmigrated_database_is_refused_with_the_command_to_run(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseNotMigrated, match="python -m app migrate"):
        ensure_migrated(database.engine)


def test_demo_data_has_two_merchants_and_every_subscription_status(database: Database) -> None:
    with database.transaction() as session:
        names = set(session.scalars(select(Merchant.public_business_name)))
        acme = session.scalar(select(Merchant).where(Merchant.public_business_name == "Acme Cloud"))
        assert acme is not None
        customers = session.scalar(select(func.count()).where(Customer.merchant_id == acme.id))
        statuses = set(session.scalars(select(Subscription.status).where(Subscription.merchant_id == acme.id)))
        pending_cancellations = session.scalar(
            select(func.count()).where(Subscription.merchant_id == acme.id, Subscription.cancel_at_period_end)
        )
        invoice_statuses = set(session.scalars(select(Invoice.status).where(Invoice.merchant_id == acme.id)))
        oldest_invoice = session.scalar(select(func.min(Invoice.created_at)).where(Invoice.merchant_id == acme.id))
        owner = session.scalar(select(MerchantUser).where(MerchantUser.email == "owner@acme.test"))
    assert names == {"Acme Cloud", "Globex"}
    assert customers is not None and customers >= 60
    assert statuses == set(SubscriptionStatus)
    assert pending_cancellations
    assert {InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.VOID} <= invoice_statuses
    assert oldest_invoice is not None and (DEMO_NOW - oldest_invoice).days >= 330
    assert owner is not None and owner.password_hash.startswith("$argon2")


def test_datetimes_come_back_aware_utc_and_naive_ones_are_refused(database: Database) -> None:
    with database.transaction() as session:
        customer = session.scalars(select(Customer).limit(1)).one()
        assert customer.created_at.tzinfo is UTC
        session.add(PaymentMethod(customer_id=customer.id, brand="visa", last4="4242", exp_month=1, exp_year=2030))
    with pytest.raises(StatementError, match="naive datetime"), database.transaction() as session:
        customer = session.scalars(select(Customer).limit(1)).one()
        customer.deleted_at = datetime(2026, 1, 1)


def test_public_ids_are_prefixed_and_random(database: Database) -> None:
    with database.transaction() as session:
        ids = list(session.scalars(select(Customer.id).limit(20)))
    assert all(identifier.startswith("cus_") and len(identifier) > 12 for identifier in ids)
    assert len(set(ids)) == len(ids)
