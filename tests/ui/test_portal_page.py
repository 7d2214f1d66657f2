"""The customer portal page: sections follow the merchant's toggles, cancel/undo, link problems, PDF downloads."""

from __future__ import annotations

from datetime import datetime

import pytest
from nicegui import Client, ui
from nicegui.outbox import Message
from nicegui.testing import User
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.formatting import format_date
from app.models import (
    CancelMode,
    Customer,
    Invoice,
    InvoiceStatus,
    SubscriptionStatus,
)
from server.nicegui_internals import watch_messages
from tests.ui.eventually import eventually
from tests.ui.portal_setup import customer_with, link_path, set_portal_settings, subscription_of

# Building and holding a portal page costs about in proportion to its NiceGUI elements (history.md of benchmarks).
ELEMENTS_BEFORE_CONNECTING = 60
ELEMENTS_CONNECTED = 160
SECTIONS = ("Subscriptions", "Payment method", "Billing details", "Shipping information", "Invoice history")


async def test_portal_shows_the_enabled_sections_and_business_information(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    await user.open(link_path(database, settings, customer_id))
    for heading in (*SECTIONS, "Business information", "Return to Acme Cloud", "support@acme.test"):
        await user.should_see(heading)
    await user.should_see(kind=ui.button, content="Cancel subscription")
    await user.should_see(kind=ui.button, content="Update subscription")
    await user.should_not_see("Preview")


@pytest.mark.parametrize(
    ("toggle", "hidden"),
    [
        ("payment_method_update", "Payment method"),
        ("billing_details_update", "Billing details"),
        ("shipping_information", "Shipping information"),
        ("invoice_history", "Invoice history"),
    ],
)
async def test_each_section_toggle_off_removes_its_section(
    user: User, database: Database, settings: Settings, toggle: str, hidden: str
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    set_portal_settings(database, **{toggle: False})
    await user.open(link_path(database, settings, customer_id))
    await user.should_not_see(hidden)
    for heading in SECTIONS:
        if heading != hidden:
            await user.should_see(heading)


async def test_cancel_and_plan_switch_toggles_remove_their_buttons(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    set_portal_settings(database, cancel_subscriptions=False, plan_switching=False)
    await user.open(link_path(database, settings, customer_id))
    await user.should_see("Subscriptions")
    await user.should_not_see(kind=ui.button, content="Cancel subscription")
    await user.should_not_see(kind=ui.button, content="Update subscription")


async def test_cancel_at_period_end_says_when_access_ends_and_can_be_undone(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    period_end = subscription_of(database, customer_id).current_period_end
    ends = format_date(period_end, "en_US", "America/New_York")
    await user.open(link_path(database, settings, customer_id))

    user.find(kind=ui.button, content="Cancel subscription").click()
    await user.should_see(f"You will keep access until {ends}. You won't be charged again.")
    await user.should_see("Why are you canceling? (optional)")
    user.find(marker="confirm-cancel").click()
    await user.should_see(kind=ui.button, content="Don't cancel", retries=30)
    subscription = subscription_of(database, customer_id)
    assert subscription.cancel_at_period_end
    assert subscription.status == SubscriptionStatus.ACTIVE

    user.find(kind=ui.button, content="Don't cancel").click()
    await user.should_see(kind=ui.button, content="Cancel subscription", retries=30)
    assert not subscription_of(database, customer_id).cancel_at_period_end


async def test_cancel_immediately_says_it_ends_now_and_ends_it(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    set_portal_settings(database, cancel_mode=CancelMode.IMMEDIATELY, cancellation_reasons=False)
    await user.open(link_path(database, settings, customer_id))

    user.find(kind=ui.button, content="Cancel subscription").click()
    await user.should_see("Your subscription will end now and you will lose access immediately.", retries=10)
    await user.should_not_see("Why are you canceling? (optional)")
    user.find(marker="confirm-cancel").click()
    await user.should_see("Canceled on", retries=30)
    subscription = subscription_of(database, customer_id)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert isinstance(subscription.canceled_at, datetime)
    await user.should_not_see(kind=ui.button, content="Cancel subscription")


async def test_invalid_billing_email_is_shown_inline_and_nothing_is_saved(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    with database.transaction() as session:
        saved_email = session.get_one(Customer, customer_id).email
    await user.open(link_path(database, settings, customer_id))
    await user.should_see(kind=ui.button, content="Update billing details")  # built once the page has connected
    user.find(kind=ui.button, content="Update billing details").click()
    email = user.find(kind=ui.input, content="Email")
    email.clear().type("not-an-email")
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Check the highlighted fields.", retries=30)
    (field,) = email.elements
    assert field.error == "Enter a valid email address, like name@example.com."
    with database.transaction() as session:
        assert session.get_one(Customer, customer_id).email == saved_email


async def test_a_bad_link_gets_the_link_problem_page(user: User) -> None:
    await user.open("/portal/not-a-real-token")
    await user.should_see("This link is not valid")
    await user.should_not_see("Subscriptions")


async def test_invoice_pdf_route_serves_only_the_links_customer(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    path = link_path(database, settings, customer_id)
    with database.transaction() as session:
        own = session.scalars(
            select(Invoice).where(Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.PAID).limit(1)
        ).one()
        other = session.scalars(
            select(Invoice).where(Invoice.customer_id != customer_id, Invoice.status == InvoiceStatus.PAID).limit(1)
        ).one()
        own_id, own_number, other_id = own.id, own.number, other.id

    response = await user.http_client.get(f"{path}/invoices/{own_id}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert own_number in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF")
    assert (await user.http_client.get(f"{path}/invoices/{other_id}/pdf")).status_code == 404
    assert (await user.http_client.get(f"/portal/not-a-token/invoices/{own_id}/pdf")).status_code == 404


async def test_the_chosen_language_goes_into_the_address_and_survives_a_reload(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    path = link_path(database, settings, customer_id)
    client = await user.open(path)
    scripts: list[str] = []  # what reaches the (simulated) browser

    def record_script(message: Message) -> None:
        if message[1] == "run_javascript":
            scripts.append(message[2]["code"])

    watch_messages(client.outbox, record_script)
    await user.should_see("Subscriptions")
    (language,) = user.find(kind=ui.select, content="Language").elements
    with user:
        language.value = "de_DE"
    await user.should_see("Abonnements", retries=30)
    address = 'history.replaceState({}, "", "?lang=de_DE");'
    await eventually(lambda: address in scripts, "the address to be replaced")

    await user.open(path + "?lang=de_DE")  # the reload
    await user.should_see("Abonnements")
    await user.should_not_see("Subscriptions")


@pytest.mark.parametrize("lang", ["xx_YY", "%3Cb%3E", "de" * 200])
async def test_an_unsupported_language_in_the_address_is_ignored(
    user: User, database: Database, settings: Settings, lang: str
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    await user.open(f"{link_path(database, settings, customer_id)}?lang={lang}")
    await user.should_see("Subscriptions")


async def test_a_portal_page_builds_few_elements_and_the_sections_below_the_fold_once_connected(
    user: User, database: Database, settings: Settings
) -> None:
    path = link_path(database, settings, customer_with(database, SubscriptionStatus.PAST_DUE))
    before = set(Client.instances)
    response = await user.http_client.get(path)  # a link scanner's GET: no browser ever connects
    assert response.status_code == 200
    (unconnected,) = (client for client_id, client in Client.instances.items() if client_id not in before)
    assert len(unconnected.elements) <= ELEMENTS_BEFORE_CONNECTING
    assert "Invoice history" not in response.text

    client = await user.open(path)
    await user.should_see("Invoice history")
    await user.should_see(kind=ui.button, content="View")
    assert len(client.elements) <= ELEMENTS_CONNECTED
