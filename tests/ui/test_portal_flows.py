"""Deep links: `?flow=…` opens the portal at one task, only for the link's customer's own objects."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.models import Invoice, InvoiceStatus, SubscriptionStatus
from tests.ui.portal_setup import customer_with, link_path, set_portal_settings, subscription_of


def _invoice_of(database: Database, customer_id: str) -> Invoice:
    with database.transaction() as session:
        return session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.PAID).limit(1)
        ).one()


async def test_payment_method_update_opens_the_add_card_form(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    await user.open(link_path(database, settings, customer_id) + "?flow=payment_method_update")
    await user.should_see("Cardholder name", retries=30)


async def test_subscription_cancel_opens_the_confirmation_for_the_customers_own_subscription(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    subscription = subscription_of(database, customer_id)
    await user.open(
        link_path(database, settings, customer_id) + f"?flow=subscription_cancel&subscription={subscription.id}"
    )
    await user.should_see("Keep subscription", retries=30)


async def test_a_foreign_subscription_or_invoice_shows_the_normal_portal(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    other = customer_with(database, SubscriptionStatus.PAST_DUE)
    foreign_subscription, foreign_invoice = subscription_of(database, other), _invoice_of(database, other)
    path = link_path(database, settings, customer_id)
    await user.open(f"{path}?flow=subscription_cancel&subscription={foreign_subscription.id}")
    await user.should_see("Subscriptions")
    await user.should_not_see("Keep subscription")
    await user.open(f"{path}?flow=invoice&invoice={foreign_invoice.id}")
    await user.should_see("Invoice history")
    await user.should_not_see(f"Invoice {foreign_invoice.number}")


async def test_invoice_opens_the_invoice_and_a_switched_off_feature_is_ignored(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    invoice = _invoice_of(database, customer_id)
    path = link_path(database, settings, customer_id)
    await user.open(f"{path}?flow=invoice&invoice={invoice.id}")
    await user.should_see(f"Invoice {invoice.number}", retries=30)
    await user.should_see("Download PDF")
    set_portal_settings(database, payment_method_update=False)
    await user.open(f"{path}?flow=payment_method_update")
    await user.should_see("Subscriptions")
    await user.should_not_see("Cardholder name")
