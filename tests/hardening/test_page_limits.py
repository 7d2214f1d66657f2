"""One portal link, or one client address, cannot pin the server with live pages: beyond the limits a visitor gets
a small "too many open tabs" page (429) that builds no page at all.

Before, 2,000 GETs of one link each built a page that stayed in memory for 20 s (and 1,000 socket.io connections
on one link held about 500 MB as long as they stayed open), and `/healthz` took seconds to answer meanwhile.
"""

from __future__ import annotations

import httpx
from nicegui import Client, core
from nicegui.testing import User

from app.config import Settings
from app.db import Database
from app.enums import SubscriptionStatus
from tests.ui.portal_setup import customer_with, link_path

PER_LINK = 10  # the defaults of MAX_PAGES_PER_PORTAL_LINK and MAX_PAGES_PER_CLIENT_ADDRESS
PER_ADDRESS = 50
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120", "Accept-Language": "de-DE,de;q=0.9"}


def visitor(address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(core.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=BROWSER)


async def test_one_link_opens_in_at_most_ten_live_pages(user: User, app_database: Database, settings: Settings) -> None:
    portal = link_path(app_database, settings, customer_with(app_database, SubscriptionStatus.ACTIVE))
    async with visitor("203.0.113.5") as scanner:
        for _ in range(PER_LINK):
            assert (await scanner.get(portal)).status_code == 200
        pages = len(Client.instances)
        for _ in range(100):
            refused = await scanner.get(portal)
            assert refused.status_code == 429
        assert len(Client.instances) == pages  # a refusal builds no page
        assert "Zu viele offene Tabs" in refused.text  # in the visitor's language
        assert refused.headers["retry-after"] == "20"
        assert refused.headers["content-security-policy"]  # the usual headers too
    async with visitor("198.51.100.7") as customer:  # the same link elsewhere is limited too...
        assert (await customer.get(portal)).status_code == 429
        other = link_path(app_database, settings, customer_with(app_database, SubscriptionStatus.PAST_DUE))
        assert (await customer.get(other)).status_code == 200  # ...another link is not
        assert (await customer.get("/healthz")).status_code == 200


async def test_one_address_opens_at_most_fifty_pages_that_need_no_sign_in(user: User) -> None:
    async with visitor("203.0.113.9") as flood:
        for number in range(PER_ADDRESS):
            page = "/login" if number % 2 else f"/portal/not-a-token-{number}"
            assert (await flood.get(page)).status_code == 200
        assert (await flood.get("/login")).status_code == 429
        assert (await flood.get("/portal/yet-another")).status_code == 429
    async with visitor("198.51.100.7") as someone_else:
        assert (await someone_else.get("/login")).status_code == 200


async def test_ipv6_addresses_count_by_their_64_bit_network(user: User) -> None:
    """An IPv6 subscriber gets a /64 network: its 2^64 addresses are one address here."""
    for number in range(PER_ADDRESS):
        async with visitor(f"2001:db8:1:2::{number + 1:x}") as tab:
            assert (await tab.get("/login")).status_code == 200
    async with visitor("2001:db8:1:2:ffff::1") as tab:
        assert (await tab.get("/login")).status_code == 429
    async with visitor("2001:db8:1:3::1") as tab:
        assert (await tab.get("/login")).status_code == 200
