"""Customers → New customer, Edit, and Start subscription with its summary of what will be charged and when."""

from __future__ import annotations

from pathlib import Path

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.db import Database
from app.enums import SubscriptionStatus
from app.models import Customer, Merchant, Subscription
from app.services.accounts import create_merchant
from app.services.catalog import PriceTerms, create_price, create_product
from tests.conftest import DEMO_PASSWORD
from tests.ui.conftest import log_in


def _database(app_env: Path) -> Database:
    return Database(f"sqlite:///{app_env}")


def _new_merchant_with_a_price(app_env: Path) -> str:
    database = _database(app_env)
    with database.transaction() as session:
        create_merchant(session=session, business_name="Initech", email="owner@initech.test", password=DEMO_PASSWORD)
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == "Initech")).one()
        product = create_product(session=session, merchant_id=merchant_id, name="Pro plan")
        price = create_price(
            session=session, merchant_id=merchant_id, product_id=product.id, terms=PriceTerms(2900, "USD", "month")
        )
    database.dispose()
    return price.id


def _customer(app_env: Path, email: str) -> Customer:
    database = _database(app_env)
    with database.transaction() as session:
        customer = session.scalars(select(Customer).where(Customer.email == email)).one()
        session.expunge(customer)
    database.dispose()
    return customer


async def test_a_new_customer_gets_a_subscription_with_a_trial(user: User, app_env: Path) -> None:
    price_id = _new_merchant_with_a_price(app_env)
    await log_in(user, email="owner@initech.test", then="/customers")
    await user.should_see("No customers yet")
    user.find(kind=ui.button, content="New customer").click()
    await user.should_see("Billing address (optional)")
    user.find(marker="field-name").type("Jo Example")
    user.find(marker="field-email").type("not-an-email")
    user.find(marker="dialog-save").click()
    await user.should_see("Enter a valid email address, like name@example.com.", retries=30)
    user.find(marker="field-email").clear().type("jo@example.com")
    user.find(marker="dialog-save").click()
    await user.should_see("Customer created", retries=30)
    customer = _customer(app_env, "jo@example.com")
    await user.should_see("Start subscription", retries=30)

    user.find(kind=ui.button, content="Start subscription").click()
    await user.should_see("What will be charged")
    (summary,) = user.find(marker="subscription-summary").elements
    assert "$29.00 is charged today" in summary.text and "no card on file" in summary.text
    user.find(marker="field-trial_period_days").elements.pop().set_value(14)
    assert (
        summary.text.startswith("Free trial of 14 days, nothing charged now.") and "$29.00 every month" in summary.text
    )
    user.find(marker="dialog-save").click()
    await user.should_see("Subscription started", retries=30)
    database = _database(app_env)
    with database.transaction() as session:
        subscription = session.scalars(select(Subscription).where(Subscription.customer_id == customer.id)).one()
        assert subscription.status == SubscriptionStatus.TRIALING and subscription.items[0].price_id == price_id
    database.dispose()


async def test_edit_changes_the_customer_and_a_taken_email_is_explained(user: User, app_env: Path) -> None:
    database = _database(app_env)
    with database.transaction() as session:
        first, second = session.scalars(select(Customer).order_by(Customer.email).limit(2)).all()
        customer_id, taken = first.id, second.email
    database.dispose()
    await log_in(user, then=f"/customers/{customer_id}")
    user.find(kind=ui.button, content="Edit").click()
    await user.should_see("Billing address (optional)")
    user.find(marker="field-email").clear().type(taken)
    user.find(marker="dialog-save").click()
    await user.should_see("Another of your customers has this email address.", retries=30)
    user.find(marker="field-email").clear().type("renamed@example.com")
    user.find(marker="field-name").clear().type("Renamed Person")
    user.find(marker="dialog-save").click()
    await user.should_see("Customer saved", retries=30)
    assert _customer(app_env, "renamed@example.com").name == "Renamed Person"
