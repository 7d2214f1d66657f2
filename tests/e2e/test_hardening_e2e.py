"""Hardening in Chromium: hostile text is shown as text and runs nothing; a portal survives a server restart."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect
from sqlalchemy import select

from app.config import Settings, load_settings
from app.db import Database
from app.models import Customer, Merchant, Subscription, SubscriptionStatus
from app.services.accounts import create_merchant
from app.services.portal_links import issue_link
from app.services.portal_settings import get_portal_settings, save_portal_settings
from tests.conftest import DEMO_PASSWORD, TEST_SECRET_KEY
from tests.e2e.conftest import ROOT, _free_port, server_environment, wait_for_health
from tests.hardening.payloads import XSS_PAYLOADS

HOSTILE_EMAIL = "hostile@merchant.test"
# Where each payload goes (all within their fields' lengths): the merchant's business name, headline and address;
# the customer's name, billing and shipping address.
BUSINESS_NAME = '"><svg onload=alert(1)>'
HEADLINE = "<script>alert('xss')</script>"
CUSTOMER_NAME = "<img src=x onerror=alert(1)>"
LINE1 = "{{ constructor.constructor('alert(1)')() }}"
CITY = "javascript:alert(document.cookie)"
SHIPPING_NAME = "x; width: expression(alert(1)); background:url(javascript:x)"
ADDRESS_LINES = [payload for payload in XSS_PAYLOADS[5:]]


def _link_settings() -> Settings:
    return load_settings(secret_key=TEST_SECRET_KEY, _env_file=None)


def _hostile_merchant(database: Database) -> tuple[str, str]:
    """A merchant and customer made of hostile text; returns the customer's id and portal path."""
    settings = _link_settings()
    with database.transaction() as session:
        if session.scalars(select(Merchant.id).where(Merchant.public_business_name == BUSINESS_NAME)).first() is None:
            create_merchant(session=session, business_name=BUSINESS_NAME, email=HOSTILE_EMAIL, password=DEMO_PASSWORD)
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == BUSINESS_NAME)).one()
        saved = get_portal_settings(session=session, merchant_id=merchant_id)
        draft = replace(saved, headline=HEADLINE, address="\n".join(ADDRESS_LINES))
        save_portal_settings(session=session, draft=draft, expected_version=saved.version)
        customer = Customer(
            merchant_id=merchant_id,
            name=CUSTOMER_NAME,
            email="jenny@example.com",
            locale="en_US",
            address_line1=LINE1,
            address_city=CITY,
            address_postal_code="10115",
            address_country="DE",
            shipping_name=SHIPPING_NAME,
            shipping_line1=LINE1,
            shipping_city=CITY,
            shipping_postal_code="10115",
            shipping_country="DE",
        )
        session.add(customer)
        session.flush()
        link = issue_link(
            session=session, settings=settings, merchant_id=merchant_id, customer_id=customer.id, created_by="e2e"
        )
    return customer.id, link.url.removeprefix(settings.effective_public_url)


class Watch:
    """Everything a page does that an injected script would: dialogs, uncaught errors, console errors."""

    def __init__(self, page: Page) -> None:
        self.events: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.events.append(f"page error: {error}"))
        page.on("console", self._console)

    def _dialog(self, dialog: Dialog) -> None:
        self.events.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.events.append(f"console: {message.text}")


def _shows_literally(page: Page, *texts: str) -> None:
    for text in texts:
        expect(page.get_by_text(text, exact=False).first).to_be_visible()


def test_hostile_text_is_shown_as_text_and_runs_nothing(
    browser: Browser, server_url: str, server_data_dir: Path
) -> None:
    database = Database(f"sqlite:///{server_data_dir / 'portal.db'}")
    customer_id, portal_path = _hostile_merchant(database)
    database.dispose()

    customer = browser.new_context().new_page()
    watch = Watch(customer)
    customer.goto(server_url + portal_path)
    _shows_literally(customer, BUSINESS_NAME, HEADLINE, CUSTOMER_NAME, LINE1, CITY, SHIPPING_NAME, *ADDRESS_LINES)
    expect(customer.locator("svg[onload], img[onerror], script:text('xss')")).to_have_count(0)

    merchant = browser.new_context().new_page()
    watch_merchant = Watch(merchant)
    merchant.goto(f"{server_url}/login?redirect_to=/customers/{customer_id}")
    merchant.get_by_label("Email").fill(HOSTILE_EMAIL)
    merchant.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    merchant.get_by_role("button", name="Sign in").click()
    merchant.wait_for_url(f"{server_url}/customers/{customer_id}")
    _shows_literally(merchant, BUSINESS_NAME, CUSTOMER_NAME, LINE1, CITY)
    merchant.goto(f"{server_url}/customers")
    _shows_literally(merchant, CUSTOMER_NAME)
    merchant.goto(f"{server_url}/settings/portal")
    expect(merchant.get_by_label("Headline")).to_have_value(HEADLINE)
    _shows_literally(merchant.get_by_role("region", name="Portal preview"), HEADLINE, BUSINESS_NAME)
    expect(merchant.locator("svg[onload], img[onerror]")).to_have_count(0)

    assert watch.events == [] and watch_merchant.events == []


@pytest.fixture
def restartable_server(tmp_path: Path) -> Iterator[tuple[str, Path, list[subprocess.Popen[bytes]]]]:
    """A server of its own (the shared one must not restart), with its database and port kept across restarts."""
    port = _free_port()
    env = server_environment(tmp_path, port, RECONNECT_TIMEOUT_SECONDS="60")
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    processes: list[subprocess.Popen[bytes]] = []
    url = f"http://127.0.0.1:{port}"

    def start() -> None:
        log = (tmp_path / f"server-{len(processes)}.log").open("wb")
        process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        wait_for_health(url, process)

    start()
    try:
        yield url, tmp_path, processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


def test_an_open_portal_keeps_working_after_a_server_restart(
    page: Page, restartable_server: tuple[str, Path, list[subprocess.Popen[bytes]]]
) -> None:
    url, data_dir, processes = restartable_server
    database = Database(f"sqlite:///{data_dir / 'portal.db'}")
    settings = _link_settings()
    with database.transaction() as session:
        customer_id, subscription_id = session.execute(
            select(Customer.id, Subscription.id)
            .join(Subscription, Subscription.customer_id == Customer.id)
            .join(Merchant, Merchant.id == Customer.merchant_id)
            .where(
                Merchant.public_business_name == "Acme Cloud",
                Subscription.status == SubscriptionStatus.ACTIVE,
                Subscription.cancel_at_period_end.is_(False),
            )
            .order_by(Customer.id)
            .limit(1)
        ).one()
        session.get_one(Customer, customer_id).locale = "en_US"
        merchant_id = session.get_one(Customer, customer_id).merchant_id
        link = issue_link(
            session=session, settings=settings, merchant_id=merchant_id, customer_id=customer_id, created_by="e2e"
        )
    page.goto(url + link.url.removeprefix(settings.effective_public_url))
    expect(page.get_by_role("button", name="Cancel subscription")).to_be_visible()

    with page.expect_event("load", timeout=60_000):  # the page reloads itself once the new server answers
        processes[-1].terminate()
        processes[-1].wait(timeout=10)
        log = (data_dir / "server-restarted.log").open("wb")
        restarted = subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=ROOT,
            env=server_environment(data_dir, int(url.rsplit(":", 1)[1]), RECONNECT_TIMEOUT_SECONDS="60"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(restarted)
        wait_for_health(url, restarted)

    assert page.url.endswith(link.url.removeprefix(settings.effective_public_url))  # the same link
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_role("button", name="Don't cancel")).to_be_visible()
    with database.transaction() as session:
        assert session.get_one(Subscription, subscription_id).cancel_at_period_end
    database.dispose()


def test_reloading_and_a_few_tabs_stay_under_the_tab_limit(
    browser: Browser, server_url: str, server_data_dir: Path
) -> None:
    """A customer who reloads their portal a dozen times and opens it in three tabs never sees "too many open tabs":
    a page whose browser has gone does not count."""
    database = Database(f"sqlite:///{server_data_dir / 'portal.db'}")
    settings = _link_settings()
    with database.transaction() as session:
        customer_id, merchant_id = session.execute(
            select(Customer.id, Customer.merchant_id).where(Customer.email.like("%@example.com")).limit(1)
        ).one()
        link = issue_link(
            session=session, settings=settings, merchant_id=merchant_id, customer_id=customer_id, created_by="e2e"
        )
    database.dispose()
    url = server_url + link.url.removeprefix(settings.effective_public_url)
    context = browser.new_context()
    page = context.new_page()
    for _ in range(15):
        response = page.goto(url)
        assert response is not None and response.status == 200
        expect(page.get_by_role("region").first).to_be_visible()  # connected before the next reload
    for _ in range(3):
        tab = context.new_page()
        response = tab.goto(url)
        assert response is not None and response.status == 200
    context.close()
