"""Security headers on every kind of response: pages, the API, media, PDFs, static files, errors and 404s."""

from __future__ import annotations

import re

import httpx
import pytest
from nicegui.testing import User
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.images import process_icon
from app.models import Invoice, InvoiceStatus, SubscriptionStatus
from app.services.api_keys import create_api_key
from app.services.portal_settings import ImageEdit, get_portal_settings, save_branding
from server.security_headers import CONTENT_SECURITY_POLICY
from tests.ui.conftest import log_in
from tests.ui.portal_setup import acme, customer_with, link_path

# A red 1×1 PNG.
ICON = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)


def assert_hardened(response: httpx.Response, *, cacheable: bool = False, portal: bool = False) -> None:
    what = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    headers = response.headers
    assert headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("x-frame-options") == "SAMEORIGIN", what
    assert headers.get("referrer-policy") == ("no-referrer" if portal else "same-origin"), what
    if not cacheable:
        assert headers.get("cache-control") == "no-store", what


async def test_every_kind_of_response_is_hardened(user: User, database: Database, settings: Settings) -> None:
    customer_id = customer_with(database, SubscriptionStatus.PAST_DUE)
    portal = link_path(database, settings, customer_id)
    with database.transaction() as session:
        merchant_id = acme(session).id
        key = create_api_key(session=session, merchant_id=merchant_id).secret
        saved = get_portal_settings(session=session, merchant_id=merchant_id)
        version = save_branding(
            session=session,
            merchant_id=merchant_id,
            brand_color=saved.brand_color,
            accent_color=saved.accent_color,
            icon=ImageEdit(process_icon(ICON)),
            expected_version=saved.version,
        ).version
        invoice_id = session.scalars(
            select(Invoice.id).where(Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.OPEN)
        ).first()
    client = user.http_client

    login = await client.get("/login")
    assert_hardened(login)
    static = re.search(r'(/_nicegui/[^"\']+\.js)', login.text)
    assert static is not None
    assert_hardened(await client.get(static.group(1)), cacheable=True)
    assert_hardened(await client.get("/healthz"))
    assert_hardened(await client.get("/customers"))  # the redirect to sign in
    assert_hardened(await client.get("/no/such/page"))
    assert_hardened(await client.get("/openapi.json"))
    assert_hardened(await client.get(f"/media/{merchant_id}/icon.png?v={version}"), cacheable=True)
    assert_hardened(await client.get(f"/media/{merchant_id}/nothing.png"), cacheable=True)

    api = "/api/v1/portal_sessions"
    assert_hardened(await client.post(api, json={"customer": customer_id}))  # 401
    created = await client.post(api, json={"customer": customer_id}, headers={"Authorization": f"Bearer {key}"})
    assert created.status_code == 201
    assert_hardened(created)

    assert_hardened(await client.get(portal), portal=True)
    pdf = await client.get(f"{portal}/invoices/{invoice_id}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert_hardened(pdf, portal=True)
    assert_hardened(await client.get(f"{portal}/invoices/in_someone_else/pdf"), portal=True)  # 404
    assert_hardened(await client.get("/portal/not-a-token"), portal=True)

    await log_in(user, then="/customers")
    page = await client.get(f"/customers/{customer_id}")
    assert page.status_code == 200
    assert_hardened(page)


async def test_a_nul_in_an_address_is_a_bad_request_everywhere(
    user: User, database: Database, settings: Settings
) -> None:
    """NUL fits no id, token or search; refused before any route (PostgreSQL would fail on it, not "not find" it)."""
    portal = link_path(database, settings, customer_with(database, SubscriptionStatus.ACTIVE))
    await log_in(user, then="/customers")
    for path in (
        "/portal/%00",
        f"{portal}/invoices/in_%00/pdf",
        "/customers/cus_%00",
        "/customers?q=%00",
        "/media/acct_%00/icon.png",
        "/developers/webhooks/we_%00",
    ):
        response = await user.http_client.get(path)
        assert response.status_code == 400, path
        assert_hardened(response, portal=path.startswith("/portal/"))


def csp_directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return dict(part.strip().partition(" ")[::2] for part in policy.split(";"))


async def test_pages_may_connect_to_this_site_only(user: User) -> None:
    """`ws:`/`wss:` would let an injected script talk to any host's websocket; `'self'` covers NiceGUI's own."""
    response = await user.http_client.get("/login")
    assert csp_directives(response)["connect-src"] == "'self'"


@pytest.fixture
def https_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before `user` in a test's arguments: main.py then reads an https PUBLIC_URL."""
    monkeypatch.setenv("PUBLIC_URL", "https://billing.example.com")


async def test_an_https_site_tells_browsers_to_use_https_only(https_public_url: None, user: User) -> None:
    for path in ("/login", "/healthz", "/customers", "/portal/not-a-token", "/no/such/page", "/openapi.json"):
        response = await user.http_client.get(path)
        assert response.headers.get("strict-transport-security") == "max-age=31536000; includeSubDomains", path


async def test_a_plain_http_site_never_sends_hsts(user: User) -> None:
    for path in ("/login", "/healthz", "/customers"):
        response = await user.http_client.get(path)
        assert "strict-transport-security" not in response.headers, path


async def test_the_api_docs_load_swagger_ui_from_this_site(user: User) -> None:
    """/docs rendered blank: the CSP blocked Swagger UI's CDN. Now its files come from this site (which works offline)
    under the policy of every other page."""
    docs = await user.http_client.get("/docs")
    scripts = re.findall(r'<script src="([^"]+)"', docs.text)
    assert scripts and all(src.startswith("/docs/assets/") for src in scripts)
    for src in scripts:
        assert (await user.http_client.get(src)).status_code == 200, src
    login = await user.http_client.get("/login")
    assert docs.headers["content-security-policy"] == login.headers["content-security-policy"]
    spec = await user.http_client.get("/openapi.json")
    assert "/api/v1/portal_sessions" in spec.json()["paths"]
    assert all(path.startswith("/api/v1/") for path in spec.json()["paths"])  # not the site's pages and files
