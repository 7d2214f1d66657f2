"""Subscription lifecycle in Chromium: a customer pauses, the billing clock pauses and resumes at the boundaries,
the customer resumes.

Set `SCREENSHOT_DIR` to keep a screenshot of each new state at 1280 and 375 px wide (to look at, not to commit).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.config import load_settings
from app.gateways import build_gateway
from app.models import Invoice, InvoiceStatus, Subscription, SubscriptionStatus
from app.services.billing import advance
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.site import Site, customer_id, own_site, portal_link

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with own_site(tmp_path_factory.mktemp("lifecycle-data")) as site:
        yield site


def shoot(page: Page, name: str) -> None:
    """A screenshot of the page at both widths into `SCREENSHOT_DIR`, when set."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return
    size = page.viewport_size
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    if size:
        page.set_viewport_size(size)


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
