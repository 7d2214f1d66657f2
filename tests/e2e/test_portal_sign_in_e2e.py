"""As a customer would, in Chromium against a real server and a real SMTP server: open the merchant's sign-in page,
ask for a link, open it from the mail and land in the portal; then change the billing email and confirm it from the
mail sent to the new address. `SCREENSHOT_DIR` keeps screenshots of the sign-in page and the waiting email."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import Database
from app.models import Customer, Merchant
from tests.e2e.conftest import running_server
from tests.e2e.site import shoot
from tests.mail_support import SmtpServer, links_in, running_smtp_server, text_part

DESKTOP = {"width": 1280, "height": 900}
NEW_EMAIL = "pat.new.address@example.com"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[tuple[str, Database]]:
    data_dir = tmp_path_factory.mktemp("sign-in-data")
    with running_server(
        data_dir, BILLING_CLOCK_INTERVAL_SECONDS="0", SMTP_URL=smtp.url, MAIL_FROM="portal@portal.test"
    ) as server:
        database = Database(f"sqlite:///{data_dir / 'portal.db'}")
        yield server.url, database
        database.dispose()


def _customer(database: Database) -> Customer:
    with database.transaction() as session:
        acme = session.scalars(select(Merchant.id).where(Merchant.handle == "acme")).one()
        customer = session.scalars(
            select(Customer).where(Customer.merchant_id == acme).order_by(Customer.email).limit(1)
        ).one()
        session.expunge(customer)
        return customer


def test_a_customer_signs_in_from_the_sign_in_page_and_confirms_a_new_email(
    page: Page, site: tuple[str, Database], smtp: SmtpServer
) -> None:
    url, database = site
    customer = _customer(database)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{url}/p/login/acme")
    expect(page.get_by_role("heading", name="Sign in to Acme Cloud")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en-US")
    shoot(page, "sign-in")
    page.get_by_label("Email").fill(customer.email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_have_text(
        "If that address has an account with Acme Cloud, we've sent a link to it."
    )
    shoot(page, "sign-in-answered")

    (mail,) = smtp.wait_for(1)
    assert mail["To"] == customer.email
    (link,) = links_in(text_part(mail))
    page.goto(link)
    expect(page.get_by_role("region", name="Subscriptions")).to_be_visible()
    assert page.url != link  # continued on a link of its own: the mailed one is used up
    portal_url = page.url
    expect(page.get_by_role("region", name="Billing details").get_by_text(customer.email)).to_be_visible()

    billing = page.get_by_role("region", name="Billing details")
    billing.get_by_role("button", name="Update billing details").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email").fill(NEW_EMAIL)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(billing.get_by_text(f"Waiting for confirmation of {NEW_EMAIL}")).to_be_visible()
    expect(billing.get_by_role("button", name="Resend")).to_be_visible()
    expect(billing.get_by_role("button", name="Cancel change")).to_be_visible()
    shoot(page, "pending-email")

    smtp.wait_for(3)
    (confirmation,) = smtp.to(NEW_EMAIL)
    (notice,) = [mail for mail in smtp.to(customer.email) if "change" in mail["Subject"]]
    assert NEW_EMAIL in text_part(notice)
    (confirm_link,) = links_in(text_part(confirmation))
    page.goto(confirm_link)
    expect(page.get_by_role("heading", name="Email address confirmed")).to_be_visible()
    page.goto(portal_url)
    expect(page.get_by_role("region", name="Billing details").get_by_text(NEW_EMAIL)).to_be_visible()
    expect(page.get_by_text("Waiting for confirmation of")).to_have_count(0)

    page.goto(link)  # the mailed sign-in link again
    expect(page.get_by_role("heading", name="This link has already been used")).to_be_visible()
    expect(page.get_by_role("button", name="Send me a link")).to_be_visible()
