"""Subscription lifecycle in Chromium: a customer pauses, the billing clock pauses and resumes at the boundaries,
the customer resumes; scheduled downgrades; resubscribing (paid and declined); the retention offer (accepted once,
declined); the credit balance.

Set `SCREENSHOT_DIR` to keep a screenshot of each new state at 1280 and 375 px wide (to look at, not to commit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.config import load_settings
from app.gateways import build_gateway
from app.models import Customer, Invoice, InvoiceStatus, Subscription, SubscriptionStatus
from app.money import format_money
from app.services.billing import advance
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.site import Site, customer_id, forget_retention_offer, own_site, portal_link, set_card, shoot

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory.mktemp("lifecycle-data")) as site:
        yield site


def _subscription_of(site: Site, status: SubscriptionStatus, skip: int) -> Subscription:
    """The subscription of the customer that `portal_link(site, status, skip=skip)` opens."""
    customer = customer_id(site, status, skip)
    with site.database.transaction() as session:
        return session.scalars(select(Subscription).where(Subscription.customer_id == customer)).one()


def test_customer_pauses_the_clock_pauses_and_resumes_and_the_customer_resumes(page: Page, site: Site) -> None:
    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(site.url + portal_link(site, skip=1))
    subscription = _subscription_of(site, SubscriptionStatus.ACTIVE, skip=1)
    card = page.get_by_role("region", name="Subscriptions")
    card.get_by_role("button", name="Pause subscription").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile(r"^Pause .+\?$"))).to_be_visible()
    shoot(page, "pause-dialog")
    option = dialog.get_by_role("radio", name=re.compile(r"^For 2 billing periods: billing resumes on "))
    option.click()
    expect(option).to_be_checked()
    dialog.get_by_role("button", name="Pause subscription").click()
    expect(dialog).to_be_hidden()
    expect(card.get_by_text(re.compile(r"^Pauses on .+\. Billing resumes on .+\.$"))).to_be_visible()
    expect(card.get_by_text(re.compile(r"^Pauses \w+ \d+, \d{4}$"))).to_be_visible()  # the badge
    shoot(page, "pause-scheduled")

    # The billing clock at the end of the paid period: paused, no invoice.
    advance(
        database=site.database,
        now=subscription.current_period_end,
        gateway=build_gateway(load_settings(secret_key=TEST_SECRET_KEY, _env_file=None)),
    )
    page.reload()
    expect(card.get_by_text("Paused", exact=True)).to_be_visible()
    expect(
        card.get_by_text(re.compile(r"^Paused until .+\. Billing resumes then with a new period\.$"))
    ).to_be_visible()
    shoot(page, "paused")

    # The customer resumes early: active again, a new period from today.
    card.get_by_role("button", name="Resume subscription").click()
    expect(page.get_by_text("Your subscription is active again. Its new period starts today.")).to_be_visible()
    expect(card.get_by_text("Active", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Pause subscription")).to_be_visible()
    with site.database.transaction() as session:
        resumed = session.get_one(Subscription, subscription.id)
        invoice = session.scalars(
            select(Invoice).where(Invoice.subscription_id == subscription.id, Invoice.status == InvoiceStatus.OPEN)
        ).one()
        assert resumed.status == SubscriptionStatus.ACTIVE and resumed.pause_starts_at is None
        assert invoice.period_start == resumed.current_period_start == invoice.next_payment_attempt


def test_customer_schedules_a_downgrade_sees_it_and_cancels_it(page: Page, site: Site) -> None:
    site.set_portal_settings(downgrades_at_period_end=True)
    subscription = _subscription_of(site, SubscriptionStatus.ACTIVE, skip=2)
    with site.database.transaction() as session:
        session.get_one(Subscription, subscription.id).items[0].quantity = 3
    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(site.url + portal_link(site, skip=2))
    card = page.get_by_role("region", name="Subscriptions")
    card.get_by_role("button", name="Update subscription").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(re.compile(r"^A cheaper plan or fewer seats starts on "))).to_be_visible()
    dialog.get_by_label("Quantity").fill("1")
    expect(dialog.get_by_text(re.compile(r"^Your plan changes on .+\. Nothing is charged now\.$"))).to_be_visible()
    shoot(page, "downgrade-dialog")
    dialog.get_by_role("button", name="Confirm change").click()
    expect(dialog).to_be_hidden()
    expect(card.get_by_text(re.compile(r"^Changes to .+ on .+$"))).to_be_visible()
    shoot(page, "downgrade-scheduled")
    card.get_by_role("button", name="Cancel scheduled change").click()
    expect(page.get_by_text("You keep your current plan.")).to_be_visible()
    expect(card.get_by_text(re.compile(r"^Changes to "))).to_have_count(0)


def test_customer_resubscribes_and_is_charged_now(page: Page, site: Site) -> None:
    customer = customer_id(site, SubscriptionStatus.CANCELED)
    set_card(site, customer, "4242")
    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(site.url + portal_link(site, SubscriptionStatus.CANCELED))
    card = page.get_by_role("region", name="Subscriptions")
    shoot(page, "resubscribe-offered")
    card.get_by_role("button", name="Resubscribe").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile(r"^Resubscribe to .+\?$"))).to_be_visible()
    expect(
        dialog.get_by_text(re.compile(r"^You will be charged \$[\d.,]+ now to your Visa card ending in 4242\."))
    ).to_be_visible()
    expect(dialog.get_by_label("Plan")).to_be_visible()  # the merchant lets customers choose among current prices
    shoot(page, "resubscribe-dialog")
    dialog.get_by_role("button", name="Resubscribe").click()
    expect(page.get_by_text("Welcome back! Your subscription is active again.")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(card.get_by_role("button", name="Cancel subscription")).to_be_visible()
    with site.database.transaction() as session:
        subscription = session.scalars(select(Subscription).where(Subscription.customer_id == customer)).one()
        invoice = session.scalars(
            select(Invoice).where(Invoice.subscription_id == subscription.id).order_by(Invoice.created_at.desc())
        ).first()
        assert subscription.status == SubscriptionStatus.ACTIVE and subscription.canceled_at is None
        assert invoice is not None and invoice.status == InvoiceStatus.PAID
        assert invoice.period_start == subscription.current_period_start


def test_a_declined_resubscription_waits_for_payment_payable_from_its_card(page: Page, site: Site) -> None:
    """Declined: the subscription waits for its invoice, which the card's Pay button pays, also with Invoice history
    switched off and a card that asks for 3-D Secure (no dead end)."""
    customer = customer_id(site, SubscriptionStatus.CANCELED, skip=1)
    set_card(site, customer, "0002")
    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(site.url + portal_link(site, SubscriptionStatus.CANCELED, skip=1))
    card = page.get_by_role("region", name="Subscriptions")
    card.get_by_role("button", name="Resubscribe").click()
    page.get_by_role("dialog").get_by_role("button", name="Resubscribe").click()
    expect(page.get_by_text(re.compile(r"Your subscription starts once its invoice is paid\.$"))).to_be_visible()
    expect(
        card.get_by_text(re.compile(r"^Waiting for payment of .+ Pay the open invoice to start it\.$"))
    ).to_be_visible()
    shoot(page, "resubscribe-declined")
    with site.database.transaction() as session:
        status = session.scalars(select(Subscription.status).where(Subscription.customer_id == customer)).one()
    assert status == SubscriptionStatus.INCOMPLETE

    set_card(site, customer, "3155")
    site.set_portal_settings(invoice_history=False)
    try:
        page.reload()
        expect(page.get_by_role("region", name="Invoice history")).to_have_count(0)
        card.get_by_role("button", name=re.compile(r"^Pay \$[\d.,]+$")).click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_text(re.compile(r"^Pays \$[\d.,]+ with Visa ending in 3155\.$"))).to_be_visible()
        dialog.get_by_role("button", name="Pay now").click()
        page.get_by_role("button", name="Complete authentication").click()
        expect(page.get_by_text(re.compile(r"^Payment of .+ received\. Thank you!$"))).to_be_visible()
        expect(card.get_by_role("button", name="Cancel subscription")).to_be_visible()
        expect(card.get_by_role("button", name=re.compile(r"^Pay "))).to_have_count(0)
    finally:
        site.set_portal_settings(invoice_history=True)
    with site.database.transaction() as session:
        status = session.scalars(select(Subscription.status).where(Subscription.customer_id == customer)).one()
    assert status == SubscriptionStatus.ACTIVE


def test_customer_accepts_the_retention_offer_once(page: Page, site: Site) -> None:
    customer = customer_id(site, skip=3)
    forget_retention_offer(site, customer)
    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(site.url + portal_link(site, skip=3))
    card = page.get_by_role("region", name="Subscriptions")
    card.get_by_role("button", name="Cancel subscription").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Before you go: 50% off your next 3 invoices")).to_be_visible()
    shoot(page, "retention-offer")
    dialog.get_by_role("button", name="Accept offer").click()
    expect(page.get_by_text("Offer applied: 50% off your next 3 invoices.")).to_be_visible()
    expect(card.get_by_text("Discount: 50% off your next 3 invoices.")).to_be_visible()
    shoot(page, "retention-accepted")
    # Offered once: canceling now goes straight to the cancellation.
    card.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_role("dialog").get_by_role("heading", name=re.compile(r"^Cancel .+\?$"))).to_be_visible()
    page.keyboard.press("Escape")
    with site.database.transaction() as session:
        subscription = session.scalars(select(Subscription).where(Subscription.customer_id == customer)).one()
        assert subscription.discount_invoices_left == 3 and not subscription.cancel_at_period_end


def test_declining_the_offer_goes_on_to_the_cancellation(page: Page, site: Site) -> None:
    customer = customer_id(site, skip=4)
    forget_retention_offer(site, customer)
    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(site.url + portal_link(site, skip=4))
    card = page.get_by_role("region", name="Subscriptions")
    card.get_by_role("button", name="Cancel subscription").click()
    page.get_by_role("dialog").get_by_role("button", name="No thanks, cancel").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile(r"^Cancel .+\?$"))).to_be_visible()
    dialog.get_by_role("button", name="Cancel subscription").click()
    expect(dialog).to_be_hidden()
    expect(card.get_by_role("button", name="Don't cancel")).to_be_visible()


def test_the_credit_balance_shows_in_the_portal(page: Page, site: Site) -> None:
    customer = customer_id(site, skip=5)
    with site.database.transaction() as session:
        row = session.get_one(Customer, customer)
        row.credit_balance, row.credit_currency = 4321, "USD"
        item = session.scalars(select(Subscription).where(Subscription.customer_id == customer)).one().items[0]
        period = item.price.unit_amount * item.quantity
    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(site.url + portal_link(site, skip=5))
    card = page.get_by_role("region", name="Subscriptions")
    expect(
        card.get_by_text(re.compile(r"^Account credit: \$43\.21\. It is used on your next invoices"))
    ).to_be_visible()
    # The next invoice says what the credit leaves to pay.
    left = re.escape(format_money(max(period - 4321, 0), "USD"))
    expect(card.get_by_text(re.compile(rf"^Next invoice on .+ for {left}$"))).to_be_visible()
    shoot(page, "credit-balance")
