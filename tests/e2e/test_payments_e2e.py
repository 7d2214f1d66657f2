"""Cards and payments in Chromium, with each gateway: the built-in test gateway, and Stripe against localstripe
(whose Stripe.js mock mounts plain card inputs and shows a 3-D Secure confirm box, as Stripe's real page would).

A card is added through the gateway's card element and listed; a refused one is explained; 3-D Secure is confirmed
and refused when saving and when paying; an open invoice is paid; the billing clock renews one subscription, starts
dunning for another and leaves a third waiting for the customer's Confirm payment. While a card is entered, every
request and websocket frame is read: the card number never goes over the websocket, and with Stripe never to us.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, WebSocket, expect
from sqlalchemy import select

from app.config import load_settings
from app.db import Database
from app.enums import InvoiceStatus, PaymentStatus, PriceInterval, SubscriptionStatus
from app.models import (
    Customer,
    Invoice,
    InvoiceLine,
    Merchant,
    Payment,
    Price,
    ProcessedGatewayEvent,
    Subscription,
    SubscriptionItem,
)
from app.services.billing import allocate_invoice_number
from app.services.portal_links import issue_link
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import ROOT, log_in, running_server, server_environment
from tests.payment_support import GATEWAYS, STRIPE_API_BASE, STRIPE_KEYS, gateway_environment, require_gateway

GOOD = "4242424242424242"


@dataclass
class PaymentsServer:
    url: str
    gateway: str
    database: Database
    environment: dict[str, str] = field(default_factory=dict)

    def run_billing_clock(self) -> str:
        """`python -m app billing run`, as an operator's cron job runs it, with the server's settings."""
        done = subprocess.run(
            [sys.executable, "-m", "app", "billing", "run"],
            cwd=ROOT,
            env=self.environment,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout


@pytest.fixture(scope="module", params=GATEWAYS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaymentsServer]:
    gateway = request.param
    require_gateway(gateway)
    data_dir = tmp_path_factory.mktemp(f"payments-{gateway}")
    settings = {"BILLING_CLOCK_INTERVAL_SECONDS": "0", **gateway_environment(gateway)}
    with running_server(data_dir, **settings) as running:
        port = running.url.rsplit(":", 1)[1]
        if gateway == "stripe":  # localstripe posts signed events to our endpoint, as Stripe would
            httpx.post(
                f"{STRIPE_API_BASE}/_config/webhooks/portal-e2e-{port}",
                data={"url": f"{running.url}/webhooks/stripe", "secret": STRIPE_KEYS["STRIPE_WEBHOOK_SECRET"]},
            ).raise_for_status()
        database = Database(f"sqlite:///{data_dir / 'portal.db'}")
        environment = server_environment(data_dir, int(port), **settings)
        yield PaymentsServer(running.url, gateway, database, environment)
        database.dispose()


# --- Set-up through the database: customers of Acme with subscriptions and invoices -----------------------------


def _customer(server: PaymentsServer, *, period_end: datetime, open_invoices: int = 0) -> str:
    """A fresh Acme customer (no card) on the monthly Starter plan until `period_end`, with open invoices."""
    with server.database.transaction() as session:
        merchant = session.scalars(select(Merchant).where(Merchant.invoice_prefix == "ACME")).one()
        price = session.scalars(
            select(Price).where(
                Price.merchant_id == merchant.id, Price.interval == PriceInterval.MONTH, Price.unit_amount == 900
            )
        ).one()
        # A new address each time: one live customer per address and merchant.
        email = f"pat+{secrets.token_hex(4)}@example.com"
        customer = Customer(merchant_id=merchant.id, name="Pat Doe", email=email, locale="en_US")
        session.add(customer)
        session.flush()
        subscription = Subscription(
            merchant_id=merchant.id,
            customer_id=customer.id,
            status=SubscriptionStatus.ACTIVE,
            current_period_start=period_end - timedelta(days=30),
            current_period_end=period_end,
        )
        subscription.items.append(SubscriptionItem(price_id=price.id, quantity=1))
        session.add(subscription)
        for _ in range(open_invoices):
            invoice = Invoice(
                merchant_id=merchant.id,
                customer_id=customer.id,
                number=allocate_invoice_number(session, merchant.id),
                status=InvoiceStatus.OPEN,
                currency="USD",
                subtotal=900,
                total=900,
                amount_due=900,
                created_at=datetime.now(UTC),
            )
            invoice.lines.append(InvoiceLine(description="1 × Starter", quantity=1, unit_amount=900, amount=900))
            session.add(invoice)
        return customer.id


def _portal(page: Page, server: PaymentsServer, customer_id: str) -> None:
    settings = load_settings(secret_key=TEST_SECRET_KEY, _env_file=None)
    with server.database.transaction() as session:
        merchant_id = session.get_one(Customer, customer_id).merchant_id
        link = issue_link(
            session=session, settings=settings, merchant_id=merchant_id, customer_id=customer_id, created_by="e2e"
        )
    page.goto(server.url + link.url.removeprefix(settings.effective_public_url))
    expect(page.get_by_role("region", name="Payment method")).to_be_visible()


def _fill_card(page: Page, server: PaymentsServer, number: str, expiry: str = "12/34", cvc: str = "123") -> None:
    """Type the card into the gateway's card element: the test gateway's inputs, or localstripe's Elements mock."""
    form = page.get_by_role("region", name="Payment method")
    if server.gateway == "stripe":
        month, year = expiry.split("/")
        for placeholder, value in (("number", number), ("exp_month", month), ("exp_year", year), ("cvc", cvc)):
            form.get_by_placeholder(placeholder, exact=True).fill(value)
        form.get_by_placeholder("postal_code", exact=True).fill("10115")
    else:
        form.get_by_label("Card number").fill(number)
        form.get_by_label("Expiry (MM/YY)").fill(expiry)
        form.get_by_label("CVC").fill(cvc)
        form.get_by_label("Postal code").fill("10115")


def _add_card(page: Page, server: PaymentsServer, number: str, *, authenticate: bool | None = None) -> None:
    """Add payment method → card element → Add card; `authenticate` answers the bank's 3-D Secure box."""
    cards = page.get_by_role("region", name="Payment method")
    cards.get_by_role("button", name="Add payment method").click()
    expect(cards.get_by_role("heading", name="Add payment method")).to_be_visible()
    _fill_card(page, server, number)
    cards.get_by_label("Cardholder name").fill("Pat Doe")
    cards.get_by_role("button", name="Add card").click()
    if authenticate is not None:
        page.get_by_role("button", name="Complete authentication" if authenticate else "Fail authentication").click()


def _card_listed(page: Page, last4: str) -> None:
    expect(page.get_by_text("Card added.")).to_be_visible()
    expect(page.get_by_role("region", name="Payment method").get_by_text(re.compile(rf"•••• {last4}$"))).to_be_visible()


@dataclass
class Wire:
    """What the page sends: every request (URL and body) and every websocket frame."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)

    def listen(self, page: Page) -> None:
        page.on("request", lambda request: self.requests.append((request.url, request.post_data or "")))
        page.on("websocket", self._socket)

    def _socket(self, socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: self.frames.append(str(payload)))

    def carrying(self, secret: str) -> tuple[list[str], list[str]]:
        """(URLs of requests, frames) that contain `secret`, with or without spaces."""
        spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        found = [url for url, body in self.requests if secret in body or spaced in body or secret in url]
        return found, [frame for frame in self.frames if secret in frame or spaced in frame]


def test_a_card_is_added_through_the_gateway_and_its_number_never_reaches_us_over_the_websocket(
    page: Page, server: PaymentsServer
) -> None:
    customer_id = _customer(server, period_end=datetime.now(UTC) + timedelta(days=20))
    wire = Wire()
    wire.listen(page)
    _portal(page, server, customer_id)
    expect(page.get_by_text("No payment method on file.")).to_be_visible()

    # Refused by the gateway in the browser: explained under the card, nothing saved.
    _add_card(page, server, "4000000000000002")
    cards = page.get_by_role("region", name="Payment method")
    expect(cards.get_by_role("alert")).to_have_text("Your card was declined.")
    # Then a good card, typed into the same element.
    _fill_card(page, server, GOOD)
    cards.get_by_role("button", name="Add card").click()
    _card_listed(page, "4242")
    expect(cards.get_by_text("Default", exact=True)).to_be_visible()

    to_us, frames = wire.carrying(GOOD)
    assert frames == [], "a card number went over the NiceGUI websocket"
    if server.gateway == "stripe":
        assert [url for url in to_us if url.startswith(server.url)] == [], "a card number reached the app"
        assert to_us and all(url.startswith(STRIPE_API_BASE) for url in to_us)  # it went to the gateway
    else:
        assert {url.removeprefix(server.url) for url in to_us} == {"/test-gateway/v1/setup_intents/confirm"}
    with server.database.transaction() as session:
        customer = session.get_one(Customer, customer_id)
        [card] = customer.payment_methods
        assert (card.last4, card.gateway, customer.gateway) == ("4242", server.gateway, server.gateway)
        assert card.gateway_payment_method_id.startswith("pm_") and customer.gateway_customer_id


def test_3d_secure_when_saving_a_card_refused_then_confirmed(page: Page, server: PaymentsServer) -> None:
    customer_id = _customer(server, period_end=datetime.now(UTC) + timedelta(days=20))
    _portal(page, server, customer_id)
    _add_card(page, server, "4000002500003155", authenticate=False)
    cards = page.get_by_role("region", name="Payment method")
    expect(cards.get_by_role("alert")).to_be_visible()
    expect(cards.get_by_text(re.compile(r"•••• 3155$"))).to_have_count(0)
    cards.get_by_role("button", name="Add card").click()
    page.get_by_role("button", name="Complete authentication").click()
    _card_listed(page, "3155")


def _invoice_row(page: Page, number: str):
    return page.get_by_role("region", name="Invoice history").get_by_role("listitem").filter(has_text=number)


def _open_invoice_numbers(server: PaymentsServer, customer_id: str) -> list[str]:
    with server.database.transaction() as session:
        return list(
            session.scalars(
                select(Invoice.number)
                .where(Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.OPEN)
                .order_by(Invoice.number)
            )
        )


def test_pay_now_with_3d_secure_confirmed_and_refused(page: Page, server: PaymentsServer) -> None:
    customer_id = _customer(server, period_end=datetime.now(UTC) + timedelta(days=20), open_invoices=2)
    first, second = _open_invoice_numbers(server, customer_id)
    _portal(page, server, customer_id)
    _add_card(page, server, "4000002500003155", authenticate=True)
    _card_listed(page, "3155")

    _invoice_row(page, first).get_by_role("button", name=f"View invoice {first}").click()
    page.get_by_role("dialog").get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text(re.compile(r"^Payment of .+ received\. Thank you!$"))).to_be_visible()
    expect(_invoice_row(page, first).get_by_text("Paid", exact=True)).to_be_visible()

    _invoice_row(page, second).get_by_role("button", name=f"View invoice {second}").click()
    page.get_by_role("dialog").get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Fail authentication").click()
    expect(
        page.get_by_text("Your bank could not confirm this payment. Try again, or use another card.")
    ).to_be_visible()
    expect(_invoice_row(page, second).get_by_text("Open", exact=True)).to_be_visible()
    assert _open_invoice_numbers(server, customer_id) == [second]


def test_the_billing_clock_renews_duns_and_leaves_3d_secure_to_the_customer(page: Page, server: PaymentsServer) -> None:
    due = datetime.now(UTC) - timedelta(minutes=1)
    customers = {number: _customer(server, period_end=due) for number in (GOOD, "4000000000000341", "4000002500003155")}
    for number, customer_id in customers.items():
        _portal(page, server, customer_id)
        _add_card(page, server, number, authenticate=True if number.endswith("3155") else None)
        _card_listed(page, number[-4:])

    server.run_billing_clock()

    def state(customer_id: str) -> tuple[SubscriptionStatus, list[tuple[InvoiceStatus, PaymentStatus]]]:
        with server.database.transaction() as session:
            status = session.scalars(select(Subscription.status).where(Subscription.customer_id == customer_id)).one()
            rows = session.execute(
                select(Invoice.status, Payment.status)
                .join(Payment, Payment.invoice_id == Invoice.id)
                .where(Invoice.customer_id == customer_id)
            ).all()
        return status, [tuple(row) for row in rows]

    assert state(customers[GOOD]) == (SubscriptionStatus.ACTIVE, [(InvoiceStatus.PAID, PaymentStatus.SUCCEEDED)])
    assert state(customers["4000000000000341"]) == (
        SubscriptionStatus.PAST_DUE,
        [(InvoiceStatus.OPEN, PaymentStatus.FAILED)],
    )
    waiting = customers["4000002500003155"]
    assert state(waiting) == (SubscriptionStatus.PAST_DUE, [(InvoiceStatus.OPEN, PaymentStatus.REQUIRES_ACTION)])

    # The dunning customer sees the subscription past due; the 3-D Secure one confirms the payment in the portal.
    _portal(page, server, customers["4000000000000341"])
    expect(page.get_by_role("region", name="Subscriptions").get_by_text("Past due", exact=True)).to_be_visible()
    _portal(page, server, waiting)
    [number] = _open_invoice_numbers(server, waiting)
    row = _invoice_row(page, number)
    expect(row.get_by_text("Action required")).to_be_visible()
    row.get_by_role("button", name=f"Confirm payment of invoice {number}").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text(re.compile(r"^Payment of .+ received\. Thank you!$"))).to_be_visible()
    expect(row.get_by_text("Paid", exact=True)).to_be_visible()
    assert state(waiting)[0] == SubscriptionStatus.ACTIVE


def _wait_for_webhook(server: PaymentsServer, timeout: float = 15.0) -> None:
    """localstripe posts payment_intent.succeeded a second after the charge; poll the database until it was applied."""
    deadline = time.monotonic() + timeout
    applied = select(ProcessedGatewayEvent.id).where(ProcessedGatewayEvent.type == "payment_intent.succeeded")
    while time.monotonic() < deadline:
        with server.database.transaction() as session:
            if session.scalar(applied.limit(1)) is not None:
                return
        time.sleep(0.1)  # polling interval of the condition above
    pytest.fail("no webhook from localstripe was applied")


def test_the_merchant_sees_the_gateway_and_each_payments_gateway_id(page: Page, server: PaymentsServer) -> None:
    customer_id = _customer(server, period_end=datetime.now(UTC) + timedelta(days=20), open_invoices=1)
    [number] = _open_invoice_numbers(server, customer_id)
    _portal(page, server, customer_id)
    _add_card(page, server, GOOD)
    _card_listed(page, "4242")
    _invoice_row(page, number).get_by_role("button", name=f"View invoice {number}").click()
    page.get_by_role("dialog").get_by_role("button", name="Pay now").click()
    expect(page.get_by_text(re.compile(r"^Payment of .+ received\. Thank you!$"))).to_be_visible()

    log_in(page, server.url, f"/customers/{customer_id}")
    payments = page.get_by_role("region", name="Payments")
    expect(payments.get_by_text(number)).to_be_visible()
    expect(payments.get_by_text(re.compile(r"^pi_"))).to_be_visible()
    if server.gateway == "stripe":
        _wait_for_webhook(server)
    page.goto(f"{server.url}/settings/billing")
    gateway = page.get_by_role("region", name="Payment gateway")
    if server.gateway == "stripe":
        expect(gateway.get_by_text("Stripe", exact=True)).to_be_visible()
        expect(gateway.get_by_text(f"{server.url}/webhooks/stripe", exact=False)).to_be_visible()
        expect(gateway.get_by_text(re.compile(r"^Last webhook received"))).to_be_visible()
    else:
        expect(gateway.get_by_text("Built-in test gateway")).to_be_visible()
        expect(gateway.get_by_text(re.compile(r"^Simulated: "))).to_be_visible()
