"""A customer uses the portal in Chromium: subscriptions, cards, billing and shipping details, invoices."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from app.config import load_settings
from app.db import Database
from app.models import (
    CancelMode,
    Customer,
    Invoice,
    InvoiceStatus,
    Merchant,
    PortalSettings,
    Subscription,
    SubscriptionStatus,
)
from app.services.portal_links import issue_link
from tests.conftest import TEST_SECRET_KEY

# Globex, so that the settings these tests change never meet the Acme settings other browser tests edit.
MERCHANT = "Globex"


@pytest.fixture
def server_database(server_url: str, server_data_dir: Path) -> Iterator[Database]:
    """The running server's database (the server has migrated and seeded it by now)."""
    database = Database(f"sqlite:///{server_data_dir / 'portal.db'}")
    yield database
    database.dispose()


def _portal_url(server_url: str, database: Database, status: SubscriptionStatus, **settings: object) -> str:
    """A fresh link to a customer of the merchant whose subscription has `status`, after applying `settings`."""
    link_settings = load_settings(secret_key=TEST_SECRET_KEY, _env_file=None)
    with database.transaction() as session:
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == MERCHANT)).one()
        row = session.get_one(PortalSettings, merchant_id)
        for name, value in settings.items():
            setattr(row, name, value)
        customer_id = session.scalars(
            select(Customer.id)
            .join(Subscription, Subscription.customer_id == Customer.id)
            .where(
                Customer.merchant_id == merchant_id,
                Subscription.status == status,
                Subscription.cancel_at_period_end.is_(False),
            )
            .order_by(Customer.email)
            .limit(1)
        ).one()
        session.get_one(Customer, customer_id).locale = "en_US"
        link = issue_link(
            session=session, settings=link_settings, merchant_id=merchant_id, customer_id=customer_id, created_by="e2e"
        )
    return server_url + link.url.removeprefix(link_settings.effective_public_url)


def test_customer_cancels_undoes_updates_cards_and_details(
    page: Page, server_url: str, server_database: Database
) -> None:
    page.goto(_portal_url(server_url, server_database, SubscriptionStatus.ACTIVE, cancel_mode=CancelMode.AT_PERIOD_END))
    subscriptions = page.get_by_role("region", name="Subscriptions")
    expect(subscriptions).to_be_visible()

    # Cancel at the end of the period, then change one's mind.
    subscriptions.get_by_role("button", name="Cancel subscription").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(re.compile(r"You will keep access until .+\. You won't be charged again\."))
    # Quasar's radio changes state after a server round trip: click, then wait for the state (check() does not wait).
    reason = dialog.get_by_role("radio", name="It's too expensive")
    reason.click()
    expect(reason).to_be_checked()
    dialog.get_by_label("Anything else you want to tell us? (optional)").fill("Budget cuts")
    dialog.get_by_role("button", name="Cancel subscription").dblclick()
    expect(subscriptions.get_by_text(re.compile(r"^Cancels "))).to_be_visible()
    subscriptions.get_by_role("button", name="Don't cancel").click()
    expect(subscriptions.get_by_role("button", name="Cancel subscription")).to_be_visible()
    expect(subscriptions.get_by_text("Active", exact=True)).to_be_visible()

    # The merchant switches to immediate cancellation; the next load of the portal applies it.
    with server_database.transaction() as session:
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == MERCHANT)).one()
        session.get_one(PortalSettings, merchant_id).cancel_mode = CancelMode.IMMEDIATELY
    page.reload()
    subscriptions.get_by_role("button", name="Cancel subscription").click()
    expect(dialog).to_contain_text("Your subscription will end now and you will lose access immediately.")
    dialog.get_by_role("button", name="Cancel subscription").click()
    expect(subscriptions.get_by_text(re.compile(r"^Canceled on "))).to_be_visible()
    expect(subscriptions.get_by_role("button", name="Cancel subscription")).to_have_count(0)

    # A declined card is explained and not saved; a good one is (the test gateway's card element; both gateways
    # in test_payments_e2e.py).
    cards = page.get_by_role("region", name="Payment method")
    cards.get_by_role("button", name="Add payment method").click()
    cards.get_by_label("Card number").fill("4000 0000 0000 0002")
    cards.get_by_label("Expiry (MM/YY)").fill("12/34")
    cards.get_by_label("CVC").fill("123")
    cards.get_by_label("Postal code").fill("10115")
    cards.get_by_label("Cardholder name").fill("Pat Doe")
    cards.get_by_role("button", name="Add card").click()
    expect(cards.get_by_role("alert")).to_have_text("Your card was declined.")  # said once, under the card
    cards.get_by_label("Card number").fill("4242 4242 4242 4242")
    cards.get_by_role("button", name="Add card").click()
    expect(cards.get_by_role("heading", name="Add payment method")).to_be_hidden()
    expect(cards.get_by_text("Visa •••• 4242")).to_be_visible()
    expect(cards.get_by_text("Expires 12/2034")).to_be_visible()

    # Billing email: refused while invalid; a valid one waits for its confirmation from the new address.
    billing = page.get_by_role("region", name="Billing details")
    billing.get_by_role("button", name="Update billing details").click()
    dialog.get_by_label("Email").fill("pat@")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("Enter a valid email address, like name@example.com.")).to_be_visible()
    dialog.get_by_label("Email").fill("pat.doe@example.com")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(billing.get_by_text("Waiting for confirmation of pat.doe@example.com")).to_be_visible()

    # Shipping information.
    shipping = page.get_by_role("region", name="Shipping information")
    shipping.get_by_role("button", name="Update shipping information").click()
    dialog.get_by_label("Name").fill("Pat Doe")
    dialog.get_by_label("Address line 1").fill("Friedrichstraße 12")
    dialog.get_by_label("Address line 2 (optional)").fill("")
    dialog.get_by_label("Postal code").fill("10117")
    dialog.get_by_label("City").fill("Berlin")
    dialog.get_by_label("State, province or region (optional)").fill("")
    dialog.get_by_label("Country").fill("Germany")
    page.get_by_role("option", name="Germany").click()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(shipping.get_by_text("Friedrichstraße 12")).to_be_visible()
    expect(shipping.get_by_text("10117 Berlin")).to_be_visible()

    # Another language: the address keeps it (without a reload), so reloading the page stays in German.
    page.get_by_label("Language").click()
    page.get_by_role("option", name="Deutsch").click()
    expect(page.get_by_role("region", name="Abonnements")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/portal/[^?]+\?lang=de_DE$"))
    page.reload()
    expect(page.get_by_role("region", name="Abonnements")).to_be_visible()


def test_customer_filters_downloads_and_pays_invoices(page: Page, server_url: str, server_database: Database) -> None:
    page.goto(_portal_url(server_url, server_database, SubscriptionStatus.PAST_DUE))
    invoices = page.get_by_role("region", name="Invoice history")
    rows = invoices.get_by_role("listitem")
    expect(rows).to_have_count(10)

    invoices.get_by_label("Status").click()
    page.get_by_role("option", name="Open").click()
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_text("Open", exact=True)).to_be_visible()
    number = rows.first.get_by_text(re.compile(r"^GLX-\d+$")).inner_text()
    with server_database.transaction() as session:
        total = session.scalars(select(Invoice.total).where(Invoice.number == number)).one()

    rows.first.get_by_role("button", name=f"View invoice {number}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Download PDF").click()
    assert download.value.suggested_filename == f"{number}.pdf"
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = "".join(page_.extract_text() for page_ in PdfReader(BytesIO(pdf)).pages)
    assert number in text
    assert f"{total / 100:.2f}".replace(".", ",") in text or f"{total / 100:,.2f}" in text

    dialog.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text(re.compile(r"^Payment of .+ received\. Thank you!$"))).to_be_visible()
    expect(rows.filter(has_text=number).get_by_text("Paid", exact=True)).to_be_visible()
    with server_database.transaction() as session:
        assert session.scalars(select(Invoice.status).where(Invoice.number == number)).one() == InvoiceStatus.PAID
