"""A cap on live pages per portal link and per client address, so that one link cannot pin the server.

Every page load keeps a NiceGUI client in memory: while its browser stays connected, or for up to 20 s when it never
connects. 1,000 socket.io connections on one portal link held about 500 MB for as long as they stayed open, and 2,000
GETs of one link pushed `/healthz` to several seconds. Before a portal page (or the sign-in page, which anyone can
load too) is built, the live pages of the same link and of the same client address are counted; beyond the limits
the visitor gets a small "too many open tabs" page (429) that costs no client at all. Pages whose browser has gone
(closed tabs, reloads) do not count while NiceGUI waits for them to come back.
"""

from __future__ import annotations

import html
import ipaddress
import re

from fastapi.responses import HTMLResponse
from nicegui import Client
from starlette.types import ASGIApp, Receive, Scope, Send

from app.i18n import N_, negotiate_locale, translator
from server.client_pruning import UNCONNECTED_CLIENT_SECONDS
from server.http_middleware import HttpMiddleware
from server.nicegui_internals import awaits_reconnection

# The pages anyone can load without signing in; the others redirect to sign-in before a client exists.
PORTAL_PAGE = re.compile(r"/portal/[^/]+")
OPEN_PAGES = ("/login", "/logout")
CUSTOMER_PAGE = re.compile(r"/p/(login|confirm-email)/[^/]+")  # a merchant's sign-in page, an email confirmation
TITLE = N_("Too many open tabs")
EXPLANATION = N_(
    "This page is open in too many tabs or windows. Close the ones you no longer need, then reload this page."
)
RELOAD = N_("Reload")


def is_open_page(path: str) -> bool:
    return path in OPEN_PAGES or PORTAL_PAGE.fullmatch(path) is not None or CUSTOMER_PAGE.fullmatch(path) is not None


def address_group(host: str) -> str:
    """The unit a client address counts in: the address, or its /64 network for IPv6 (one subscriber's share)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return address_group(client[0]) if client else ""


def live_open_pages() -> list[tuple[str, str]]:
    """(path, address group) of each open page whose browser is connected or has yet to connect."""
    pages = []
    for client in list(Client.instances.values()):
        request = client.request
        if client.is_deleted or request is None or awaits_reconnection(client):
            continue
        if is_open_page(request.scope["path"]):
            pages.append((request.scope["path"], _client_address(request.scope)))
    return pages


def too_many_tabs(accept_language: str) -> HTMLResponse:
    locale = negotiate_locale("", accept_language)
    _ = translator(locale)
    language = html.escape(locale.split("_")[0])
    page = f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(_(TITLE))}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #1a1a1a">
<main><h1 style="font-size: 1.5rem; font-weight: 500">{html.escape(_(TITLE))}</h1>
<p>{html.escape(_(EXPLANATION))}</p><p><a href="" style="color: #4c44d4">{html.escape(_(RELOAD))}</a></p></main>
</body></html>"""
    return HTMLResponse(page, status_code=429, headers={"Retry-After": str(round(UNCONNECTED_CLIENT_SECONDS))})


class LivePageLimitMiddleware(HttpMiddleware):
    """Answers a GET of an open page with `too_many_tabs` when its portal link has `per_link` live pages already,
    or its client address `per_address` open pages of any kind; 0 switches a limit off."""

    def __init__(self, app: ASGIApp, *, per_link: int, per_address: int) -> None:
        super().__init__(app)
        self.per_link = per_link
        self.per_address = per_address

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if scope["method"] == "GET" and is_open_page(path) and self._over_limit(path, _client_address(scope)):
            headers = dict(scope["headers"])
            await too_many_tabs(headers.get(b"accept-language", b"").decode("latin-1"))(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _over_limit(self, path: str, address: str) -> bool:
        if not (self.per_link or self.per_address):
            return False
        pages = live_open_pages()
        link_full = self.per_link and PORTAL_PAGE.fullmatch(path) and sum(p == path for p, _ in pages) >= self.per_link
        address_full = self.per_address and sum(a == address for _, a in pages) >= self.per_address
        return bool(link_full or address_full)
