"""Logs leak no portal link and cannot be forged: tokens are redacted and control characters escaped in every line.

`/portal/<valid token>/favicon.ico` made NiceGUI log the whole URL, token and all, and `%0d%0a` in a path wrote a
line of the attacker's choosing into the log.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
from nicegui.testing import User

from app.config import Settings
from app.db import Database
from app.enums import SubscriptionStatus
from server.log_hygiene import clean
from tests.e2e.conftest import running_server
from tests.ui.portal_setup import customer_with, link_path

TOKEN_IN_PATH = re.compile(r"/portal/(?!\[token\])[A-Za-z0-9_-]{8,}")
FORGED = "/portal/x/y%0d%0a2026-12-02 12:00:00 INFO admin signed in"


async def test_a_portal_token_in_a_logged_url_is_redacted(
    user: User, database: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    portal = link_path(database, settings, customer_with(database, SubscriptionStatus.ACTIVE))
    token = portal.removeprefix("/portal/")
    with caplog.at_level(logging.INFO):
        assert (await user.http_client.get(f"{portal}/favicon.ico")).status_code == 404
        assert (await user.http_client.get(FORGED)).status_code == 404
    messages = [record.getMessage() for record in caplog.records]
    assert not any("\r" in message or "\n" in message for message in messages)  # the forged path stays one line
    logged = "\n".join(messages)
    assert "/portal/[token]/favicon.ico not found" in logged
    assert token not in logged
    assert "/portal/[token]/y\\x0d\\x0a2026-12-02 12:00:00 INFO admin signed in not found" in logged


def test_any_logger_s_values_are_cleaned(caplog: pytest.LogCaptureFixture) -> None:
    """Also arguments (uvicorn's access log passes the path as one) and other libraries' loggers."""
    log = logging.getLogger("some.library")
    with caplog.at_level(logging.INFO):
        log.info('%s - "GET %s HTTP/1.1" %d', "203.0.113.9", "/portal/abc.def.ghi/x?\nforged", 200)
        log.warning("bell\x07 and\u2028separator")
    first, second = (record.getMessage() for record in caplog.records)
    assert first == '203.0.113.9 - "GET /portal/[token]/x?\\x0aforged HTTP/1.1" 200'
    assert second == "bell\\x07 and\\u2028separator"
    assert caplog.records[0].args[2] == 200  # numbers keep their type for %d


def test_clean_keeps_ordinary_text() -> None:
    assert clean("Charged €12.00 to Müller (cus_3kT9) · 中文") == "Charged €12.00 to Müller (cus_3kT9) · 中文"


def test_a_real_server_s_log_has_no_token_and_no_forged_line(tmp_path: Path, settings: Settings) -> None:
    """The same through uvicorn and NiceGUI's own log handlers, in the log file of a server process."""
    with running_server(tmp_path) as server:
        database = Database(f"sqlite:///{tmp_path / 'portal.db'}")
        portal = link_path(database, settings, customer_with(database, SubscriptionStatus.ACTIVE))
        database.dispose()
        headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}
        assert httpx.get(f"{server.url}{portal}/favicon.ico", headers=headers).status_code == 404
        assert httpx.get(f"{server.url}{FORGED}", headers=headers).status_code == 404
    log = (tmp_path / "server.log").read_text()
    assert "/portal/[token]/favicon.ico not found" in log
    assert not TOKEN_IN_PATH.search(log)
    assert not any(line.startswith("2026-12-02 12:00:00 INFO admin") for line in log.splitlines())
