"""Portal actions through the UI: double clicks, plan switching, cards, Pay now declines, the return link."""

from __future__ import annotations

import re

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.models import Event, Invoice, InvoiceStatus, PaymentMethod, SubscriptionItem, SubscriptionStatus
from tests.ui.portal_setup import customer_with, link_path, set_portal_settings, subscription_of


async def test_a_double_clicked_confirmation_cancels_once(user: User, database: Database, settings: Settings) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    subscription_id = subscription_of(database, customer_id).id
    await user.open(link_path(database, settings, customer_id))
    user.find(kind=ui.button, content="Cancel subscription").click()
    confirm = user.find(marker="confirm-cancel")
    confirm.click()
    confirm.click()
    await user.should_see(kind=ui.button, content="Don't cancel", retries=30)
    with database.transaction() as session:
        events = session.scalar(
            select(func.count()).where(
                Event.object_id == subscription_id, Event.type == "customer.subscription.updated"
            )
        )
    assert events == 1


async def test_switching_plans_shows_the_proration_before_changing(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    subscription_id = subscription_of(database, customer_id).id
    with database.transaction() as session:
        item = session.scalars(
            select(SubscriptionItem).where(SubscriptionItem.subscription_id == subscription_id)
        ).one()
        current_price = item.price_id
    await user.open(link_path(database, settings, customer_id))
    user.find(kind=ui.button, content="Update subscription").click()
    await user.should_see("Choose a different plan or quantity.")
    (plan,) = user.find(kind=ui.select, content="Plan").elements
    other = next(price_id for price_id in plan.options if price_id != current_price)
    with user:
        plan.value = other
    await user.should_see("Amount due now", retries=30)
    await user.should_see("Credit for unused time")
    user.find(kind=ui.button, content="Confirm change").click()
    await user.should_see("Your subscription has been updated.", retries=30)
    with database.transaction() as session:
        item = session.scalars(
            select(SubscriptionItem).where(SubscriptionItem.subscription_id == subscription_id)
        ).one()
        assert item.price_id == other
        assert session.scalar(
            select(func.count()).where(
                Invoice.subscription_id == subscription_id, Invoice.billing_reason == "subscription_update"
            )
        )


async def test_another_card_can_become_the_default_and_the_old_one_be_removed(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    with database.transaction() as session:
        (old_default,) = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id))
        session.add(
            PaymentMethod(customer_id=customer_id, brand="mastercard", last4="5454", exp_month=4, exp_year=2031)
        )
        old_id = old_default.id
    await user.open(link_path(database, settings, customer_id))
    with user.scope(marker="card-5454"):
        user.find(kind=ui.button, content="Make default").click()
    await user.should_see("Mastercard •••• 5454 is now your default payment method.", retries=30)
    with user.scope(marker=f"card-{old_default.last4}"):
        user.find(kind=ui.button, content="Remove").click()
    user.find(kind=ui.button, content="Remove card").click()
    await user.should_see("was removed.", retries=30)
    with database.transaction() as session:
        cards = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)).all()
        assert [(card.last4, card.is_default) for card in cards] == [("5454", True)]
        assert session.get(PaymentMethod, old_id) is None


async def test_a_declined_pay_now_is_explained_and_the_invoice_stays_open(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.PAST_DUE)
    with database.transaction() as session:
        session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)).one().last4 = "0341"
        invoice = session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.OPEN)
        ).one()
        invoice_id, number = invoice.id, invoice.number
    await user.open(link_path(database, settings, customer_id))
    await user.should_see(marker=f"invoice-{number}")  # the invoice list is built once the page has connected
    with user.scope(marker=f"invoice-{number}"):
        user.find(kind=ui.button, content="View").click()
    await user.should_see(f"Invoice {number}", retries=30)
    await user.should_see("ending in 0341")
    user.find(kind=ui.button, content="Pay now").click()
    await user.should_see("Your card was declined.", retries=30)
    with database.transaction() as session:
        assert session.get_one(Invoice, invoice_id).status == InvoiceStatus.OPEN


async def test_without_a_return_url_there_is_no_return_link(user: User, database: Database, settings: Settings) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    set_portal_settings(database, default_return_url="")
    await user.open(link_path(database, settings, customer_id))
    await user.should_see("Subscriptions")
    await user.should_not_see("Return to Acme Cloud")


async def test_the_add_card_form_has_no_input_of_ours_for_card_data(
    user: User, database: Database, settings: Settings
) -> None:
    """The card's number, expiry and CVC are typed into the gateway's card element (plain inputs its script makes,
    tested in Chromium), never into NiceGUI inputs, whose values travel over the websocket."""
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    user.javascript_rules[re.compile(r"portalCardElement\.mount")] = lambda _match: True
    await user.open(link_path(database, settings, customer_id))
    user.find(kind=ui.button, content="Add payment method").click()
    await user.should_see(marker="card-element", retries=30)
    await user.should_see(kind=ui.input, content="Cardholder name")
    inputs = {element.props.get("label") for element in user.find(kind=ui.input).elements}
    assert not inputs & {"Card number", "Expiry (MM/YY)", "CVC", "Postal code"}
    with user.scope(marker="add-card"):
        user.find(kind=ui.button, content="Cancel").click()
    await user.should_not_see(marker="card-element", retries=30)


async def test_canceling_a_past_due_subscription_says_what_is_still_owed(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.PAST_DUE)
    await user.open(link_path(database, settings, customer_id))
    user.find(kind=ui.button, content="Cancel subscription").click()
    await user.should_see("is still due on open invoices", retries=30)
    await user.should_not_see("You won't be charged again")
    user.find(marker="confirm-cancel").click()
    await user.should_see(kind=ui.button, content="Don't cancel", retries=30)
    await user.should_see("is still due on open invoices")
    await user.should_not_see("You won't be charged again")
