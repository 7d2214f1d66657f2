"""A new merchant's first hour in Chromium, on an empty database: product, price, customer, a subscription with a
trial, Copy url, and the customer's portal showing it in a fresh browser."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ROOT, Server, running_server, server_environment
from tests.e2e.site import shoot

EMAIL = "owner@initech.test"
PASSWORD = "initech-password-1"


# Set to a folder to keep screenshots of each step at desktop and phone widths (to look at, never committed).
@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """DEMO_DATA=0 and one merchant made the way an operator makes it: `python -m app create-merchant`."""
    data_dir = tmp_path_factory.mktemp("new-merchant")
    with running_server(data_dir, DEMO_DATA="0", BILLING_CLOCK_INTERVAL_SECONDS="0") as server:
        env = server_environment(data_dir, int(server.url.rsplit(":", 1)[1]), DEMO_DATA="0")
        subprocess.run(
            [sys.executable, "-m", "app", "create-merchant", "--name", "Initech", "--email", EMAIL, "--password-stdin"],
            cwd=ROOT,
            env=env,
            input=f"{PASSWORD}\n".encode(),
            check=True,
            capture_output=True,
        )
        yield server


def test_a_new_merchant_sets_up_and_the_customer_sees_the_subscription(
    page: Page, browser: Browser, fresh_server: Server
) -> None:
    url = fresh_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page.goto(f"{url}/login?redirect_to=/products")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/products")

    expect(page.get_by_role("heading", name="No products yet")).to_be_visible()
    shoot(page, "products-empty")
    page.get_by_role("button", name="Create product").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Pro plan")
    shoot(page, "product-dialog")
    dialog.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", name="Pro plan")).to_be_visible()

    page.get_by_role("button", name="Add price").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Amount").fill("29")
    shoot(page, "price-dialog")
    dialog.get_by_role("button", name="Add price").click()
    expect(page.get_by_text("$29.00 / month")).to_be_visible()
    shoot(page, "products")

    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="No customers yet")).to_be_visible()
    shoot(page, "customers-empty")
    page.get_by_role("button", name="New customer").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Jo Example")
    dialog.get_by_label("Email").fill("not-an-email")
    dialog.get_by_role("button", name="Create customer").click()
    expect(dialog.get_by_text("Enter a valid email address, like name@example.com.")).to_be_visible()
    dialog.get_by_label("Email").fill("jo@example.com")
    shoot(page, "customer-dialog")
    dialog.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", name="Jo Example", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/customers/cus_"))

    page.get_by_role("button", name="Start subscription").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("$29.00 is charged today")).to_be_visible()
    dialog.get_by_label("Trial days (optional)").fill("14")
    expect(dialog.get_by_text(re.compile(r"^Free trial of 14 days, nothing charged now\."))).to_be_visible()
    shoot(page, "start-subscription")
    dialog.get_by_role("button", name="Start subscription").click()
    expect(page.get_by_role("region", name="Subscriptions").get_by_text("Trial", exact=True)).to_be_visible()
    shoot(page, "customer")

    page.get_by_role("button", name="Copy url").click()
    expect(page.get_by_text("Portal link copied to the clipboard")).to_be_visible()
    portal_url = page.evaluate("navigator.clipboard.readText()")
    assert portal_url.startswith(f"{url}/portal/")

    customer = browser.new_context().new_page()
    customer.goto(portal_url)
    subscriptions = customer.get_by_role("region", name="Subscriptions")
    expect(subscriptions.get_by_text("Pro plan").first).to_be_visible()
    expect(subscriptions.get_by_text(re.compile("Trial")).first).to_be_visible()
    shoot(customer, "portal")
    customer.context.close()
