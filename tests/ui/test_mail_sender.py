"""The app's background sender takes queued mails to the SMTP server within seconds, with the billing clock off."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import delete, select, update

from app.db import Database
from app.models import Customer, EmailMessage, Invoice, Subscription
from app.services.billing import advance
from tests.mail_support import SmtpServer, html_part, links_in, text_part
from tests.ui.conftest import log_in
from tests.ui.test_link_problem_emails_api_keys import _issue, _path
from tests.unit.test_billing import PERIOD_END, CardGateway, add_subscription


@pytest.fixture(autouse=True)
def _smtp_env(app_env: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the `user` fixture runs main.py: mail through the test's SMTP server, polled twice a second."""
    monkeypatch.setenv("SMTP_URL", smtp_server.url)
    monkeypatch.setenv("EMAIL_POLL_SECONDS", "0.5")  # BILLING_CLOCK_INTERVAL_SECONDS stays 0 (conftest)


async def test_a_requested_link_reaches_the_smtp_server_within_seconds(
    user: User, app_env: Path, smtp_server: SmtpServer
) -> None:
    link, customer = _issue(app_env, days_ago=2)
    await user.open(_path(link))
    user.find(kind=ui.button, content="Email me a new link").click()
    await user.should_see("Check your inbox", retries=30)
    asked = time.monotonic()
    [message] = await asyncio.to_thread(smtp_server.wait_for, 1, 10.0)
    assert time.monotonic() - asked < 10
    assert message["To"] == customer.email
    [new_link] = [url for url in links_in(text_part(message)) if "/portal/" in url]
    await user.open("/portal/" + new_link.rsplit("/portal/", 1)[1])
    await user.should_see("Subscriptions")
    await log_in(user, then="/emails")
    await user.should_see(kind=ui.label, content="Sent")


async def test_the_payment_failed_mails_button_opens_the_portal_at_the_card_form(
    user: User, app_env: Path, smtp_server: SmtpServer
) -> None:
    database = Database(f"sqlite:///{app_env}")
    with database.transaction() as session:  # only the test's own customer renews now
        for subscription in session.scalars(select(Subscription)):
            subscription.current_period_end += timedelta(days=730)
        session.execute(update(Invoice).values(next_payment_attempt=None))
    subscription_id = add_subscription(database, last4="0341")
    with database.transaction() as session:
        customer = session.get_one(Customer, session.get_one(Subscription, subscription_id).customer_id)
        customer.locale = "de_DE"
    advance(database=database, now=PERIOD_END + timedelta(minutes=1), gateway=CardGateway())
    with database.transaction() as session:  # demo customers whose pauses ended renewed too: not this test's mails
        session.execute(delete(EmailMessage).where(EmailMessage.to_address != "clock@example.com"))
    database.dispose()
    await user.open("/login")  # the app (and its mail sender) runs from here on
    message = await asyncio.to_thread(smtp_server.wait_for_mail_to, "clock@example.com", 30.0)
    assert message["Subject"] == "Ihre Zahlung an Acme Cloud ist fehlgeschlagen"
    [button] = [url for url in links_in(html_part(message)) if "/portal/" in url]
    await user.open("/portal/" + button.rsplit("/portal/", 1)[1])
    await user.should_see("Karteninhaber", retries=30)  # the add-card form, in the customer's language
