"""The app's background sender takes queued mails to the SMTP server within seconds, with the billing clock off."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.mail_support import SmtpServer, links_in, text_part
from tests.ui.conftest import log_in
from tests.ui.test_link_problem_emails_api_keys import _issue, _path


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
