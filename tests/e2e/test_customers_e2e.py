"""The seed's story in Chromium: find a customer, Copy url, open it as the customer; a dead link mails a new one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.config import load_settings
from app.db import Database
from app.models import Customer, Merchant, utcnow
from app.services.portal_links import issue_link
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import log_in

LINK_PROBLEMS = re.compile("This link (has expired|is no longer valid|is not valid)")


@pytest.fixture
def server_database(server_url: str, server_data_dir: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{server_data_dir / 'portal.db'}")
    yield database
    database.dispose()


def _open_as_customer(browser: Browser, url: str) -> Page:
    """A fresh browser context: no merchant session, like the customer's own browser."""
    page = browser.new_context().new_page()
    response = page.goto(url)
    assert response is not None and response.status == 200
    return page


def _expect_portal(page: Page) -> None:
    """The merchant's portal (in the customer's language), not a link problem page."""
    expect(page.get_by_role("heading", name=re.compile("^Acme Cloud"), level=1)).to_be_visible()
    expect(page.get_by_role("region").first).to_be_visible()
    expect(page.get_by_text(LINK_PROBLEMS)).to_have_count(0)


def test_merchant_copies_a_link_and_the_customer_opens_their_portal(
    page: Page, browser: Browser, server_url: str
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
    log_in(page, server_url, "/customers")
    page.get_by_label("Search customers").fill("MÜLLER")
    expect(page).to_have_url(re.compile(r"/customers\?q=M%C3%9CLLER$"))
    expect(page.get_by_role("link", name="Sophia Moreau")).to_have_count(0)
    page.get_by_role("link", name="Chloé Müller").click()
    expect(page.get_by_role("heading", name="Chloé Müller", level=1)).to_be_visible()

    page.get_by_role("button", name="Copy url").click()
    expect(page.get_by_text("Portal link copied to the clipboard")).to_be_visible()
    url = page.evaluate("navigator.clipboard.readText()")
    assert url.startswith(f"{server_url}/portal/")
    expect(page.get_by_label("Portal URL")).to_have_value(url)
    expect(page.get_by_text(re.compile(r"^Valid until .+ (EST|EDT)$"))).to_be_visible()
    links = page.get_by_role("list", name="Portal links")
    expect(links.get_by_text("Active", exact=True)).to_have_count(1)

    customer = _open_as_customer(browser, url)
    _expect_portal(customer)
    expect(customer.get_by_text("Chloé Müller").first).to_be_visible()
    customer.context.close()

    page.reload()
    expect(page.get_by_role("list", name="Portal links").get_by_text(re.compile("· Last used "))).to_be_visible()


def test_an_expired_link_mails_a_new_one_that_works(
    page: Page, browser: Browser, server_url: str, server_database: Database
) -> None:
    settings = load_settings(secret_key=TEST_SECRET_KEY, _env_file=None)
    with server_database.transaction() as session:
        acme = session.scalars(select(Merchant.id).where(Merchant.public_business_name.like("Acme%"))).one()
        customer = session.scalars(
            select(Customer).where(Customer.merchant_id == acme, Customer.name == "Wei Fischer")
        ).one()
        expired = issue_link(
            session=session,
            settings=settings,
            merchant_id=acme,
            customer_id=customer.id,
            created_by="e2e",
            clock=lambda: utcnow() - timedelta(days=2),
        )
    dead = _open_as_customer(browser, server_url + expired.url.removeprefix(settings.effective_public_url))
    expect(dead.get_by_role("heading", name="This link has expired")).to_be_visible()
    dead.get_by_role("button", name="Email me a new link").click()
    expect(dead.get_by_role("status")).to_contain_text("Check your inbox")
    expect(dead.get_by_text(customer.email)).to_have_count(0)
    dead.context.close()

    log_in(page, server_url, "/emails")
    page.get_by_text(f"To {customer.email}").click()
    body = page.get_by_text(re.compile("/portal/")).first.inner_text()
    new_url = re.search(r"http\S+/portal/\S+", body)
    assert new_url is not None
    _expect_portal(_open_as_customer(browser, new_url.group(0)))
