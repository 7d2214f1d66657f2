"""The Activity page: the merchant's events with source details, filtered by type and customer, paginated."""

from __future__ import annotations

from datetime import timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.db import Database
from app.enums import EventType
from app.models import Customer, EventSource, Merchant
from app.services.events import Actor
from tests.conftest import DEMO_NOW
from tests.event_support import record_sample_event
from tests.ui.conftest import log_in

PORTAL = Actor(
    source=EventSource.PORTAL, portal_link_id="pl_testlink", ip_address="203.0.113.9", user_agent="TestBrowser/1.0"
)


def seed_events(database: Database, *, extra_paid: int = 0) -> tuple[Customer, Customer]:
    """A portal action by one Acme customer, a billing event for another, and a Globex event that must stay hidden."""
    with database.transaction() as session:
        merchants = {m.invoice_prefix: m.id for m in session.scalars(select(Merchant))}
        first, second = session.scalars(
            select(Customer).where(Customer.merchant_id == merchants["ACME"]).order_by(Customer.email).limit(2)
        ).all()
        globex = session.scalars(select(Customer).where(Customer.merchant_id == merchants["GLX"]).limit(1)).one()
        record_sample_event(session, first.id, EventType.CUSTOMER_UPDATED, actor=PORTAL)
        for minutes in range(1 + extra_paid):
            record_sample_event(
                session,
                second.id,
                EventType.INVOICE_PAID,
                object_id=f"in_paid{minutes}",
                clock=lambda minutes=minutes: DEMO_NOW + timedelta(minutes=minutes + 1),
            )
        record_sample_event(session, globex.id, EventType.CUSTOMER_SUBSCRIPTION_DELETED, object_id="sub_globex")
        session.expunge_all()
        return first, second


async def test_activity_lists_events_with_portal_details_and_never_another_merchants(
    user: User, database: Database
) -> None:
    first, second = seed_events(database)
    await log_in(user, then="/activity")

    await user.should_see("Customer updated")
    await user.should_see("Invoice paid")
    await user.should_see("Link pl_testlink · IP 203.0.113.9")
    await user.should_see("TestBrowser/1.0")
    await user.should_see(first.name)
    await user.should_see(second.name)
    await user.should_not_see("sub_globex")
    await user.should_not_see("Subscription ended")


async def test_activity_filters_by_event_type_and_customer(user: User, database: Database) -> None:
    first, _ = seed_events(database)
    await log_in(user, then="/activity?type=invoice.paid")
    await user.should_see("in_paid0")
    await user.should_not_see("Customer updated")

    await user.open("/activity")
    user.find("Customer email or ID").type(first.email)
    user.find(kind=ui.button, content="Filter").click()
    await user.should_see("Customer updated", retries=30)
    await user.should_not_see("in_paid0")

    await user.open("/activity?customer=nobody@example.com")
    await user.should_see("No events match these filters.")
    [customer_input] = user.find("Customer email or ID").elements
    assert isinstance(customer_input, ui.input)
    assert customer_input.error == "No customer with this email or ID."


async def test_activity_is_paginated_newest_first(user: User, database: Database) -> None:
    seed_events(database, extra_paid=30)
    await log_in(user, then="/activity")
    await user.should_see("in_paid30")
    await user.should_not_see("in_paid5")

    user.find(kind=ui.button, content="Older").click()
    await user.should_see("Page 2", retries=30)
    await user.should_see("in_paid5")
    await user.should_see("Customer updated")
    await user.should_not_see("in_paid30")
