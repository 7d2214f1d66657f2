"""Merchant sessions: copied or planted cookies, login CSRF, the sign-in grant, sign-out, and redirects after sign-in.

Why a cross-site form cannot sign anyone in: `/login` is a NiceGUI page, so the email and password travel as
websocket events of a page the server built for that browser; there is no endpoint that accepts credentials by
POST. The only HTTP step of signing in, `/login/complete`, needs a grant that is signed, a minute old at most, works
once and is bound to the login page that asked for it, so a link or form pointing at it from another site cannot
sign a victim in as the attacker (login CSRF) either. Signing out is a POST with a token of the session.
"""

from __future__ import annotations

import httpx
import pytest
from nicegui import core, ui
from nicegui.testing import User
from sqlalchemy import select

from app.db import Database
from app.models import Customer
from tests.conftest import DEMO_PASSWORD
from tests.hardening.support import snapshot
from tests.ui.conftest import log_in, sign_out
from tests.ui.portal_setup import acme


def another_browser(cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
    """A second browser on the same app, optionally with a copy of someone's cookies."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test", cookies=cookies)


async def opens_the_dashboard(client: httpx.AsyncClient) -> bool:
    response = await client.get("/customers")
    return response.status_code == 200 and "Sign out" in response.text


def copy_of(cookies: httpx.Cookies) -> httpx.Cookies:
    copied = httpx.Cookies()
    for cookie in cookies.jar:
        copied.set(cookie.name, cookie.value)
    return copied


async def test_a_copied_session_cookie_stops_working_at_sign_out(user: User) -> None:
    await log_in(user)
    stolen = copy_of(user.http_client.cookies)
    async with another_browser(stolen) as thief:
        assert await opens_the_dashboard(thief)  # a stolen cookie works while its session lasts...
        await sign_out(user)
        await user.should_see("Sign in to your dashboard")
        assert not await opens_the_dashboard(thief)  # ...and no longer once the merchant signed out
        await log_in(user)  # not even after the merchant signs in again in the same browser
        assert not await opens_the_dashboard(thief)


async def test_signing_in_starts_a_new_session_so_a_planted_cookie_opens_nothing(user: User) -> None:
    await user.open("/login")
    planted = copy_of(user.http_client.cookies)  # e.g. set by an attacker before the merchant signs in
    await log_in(user)
    assert copy_of(user.http_client.cookies).get("session") != planted.get("session")
    async with another_browser(planted) as attacker:
        assert not await opens_the_dashboard(attacker)


@pytest.mark.parametrize("body", [{"email": "owner@acme.test", "password": DEMO_PASSWORD}, {}])
async def test_a_cross_site_form_post_signs_nobody_in(user: User, body: dict[str, str]) -> None:
    async with another_browser() as victim:
        await victim.get("/login")
        response = await victim.post("/login", data=body, headers={"Origin": "https://evil.example"})
        assert response.status_code == 405
        assert not await opens_the_dashboard(victim)


async def test_a_grant_from_another_browser_is_refused(user: User) -> None:
    """An attacker's own sign-in grant, sent to a victim's browser, does not sign the victim in as the attacker."""
    await user.open("/login")
    attacker_browser = copy_of(user.http_client.cookies)
    async with another_browser(attacker_browser) as attacker, another_browser() as victim:
        await victim.get("/login")
        grant = await _grant_for(attacker)
        response = await victim.get("/login/complete", params={"grant": grant})
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert not await opens_the_dashboard(victim)
        response = await attacker.get("/login/complete", params={"grant": grant}, follow_redirects=True)
        assert response.status_code == 200 and await opens_the_dashboard(attacker)


async def _grant_for(client: httpx.AsyncClient) -> str:
    """Sign in through the real form in `client`'s browser session and catch the grant it is sent."""
    return str(httpx.URL(await _sign_in_target(client)).params["grant"])


async def _sign_in_target(client: httpx.AsyncClient) -> str:
    """Sign in through the real form in `client`'s browser session and catch where it is sent: `/login/complete?…`."""
    browser = User(client)
    await browser.open("/login")
    browser.find("Email").type("owner@acme.test")
    browser.find("Password").type(DEMO_PASSWORD)
    targets: list[str] = []
    browser.navigate.to = targets.append  # type: ignore[method-assign] - keep the grant instead of following it
    browser.find(kind=ui.button, content="Sign in").click()
    (target,) = targets
    return target


# Browsers drop tabs and line breaks from URLs and read a backslash as a slash: "/\t/evil.example" is "//evil.example".
OFF_SITE_TARGETS = [
    "//evil.example/phish",
    "https://evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "x",
]


@pytest.mark.parametrize("redirect_to", OFF_SITE_TARGETS)
async def test_after_sign_in_only_pages_of_this_site_are_opened(user: User, redirect_to: str) -> None:
    await log_in(user, then="/customers")
    response = await user.http_client.get("/login", params={"redirect_to": redirect_to})
    assert "evil.example" not in response.text


@pytest.mark.parametrize("redirect_to", OFF_SITE_TARGETS)
async def test_completing_sign_in_opens_only_pages_of_this_site(user: User, redirect_to: str) -> None:
    await user.open("/login")
    grant = await _grant_for(user.http_client)
    response = await user.http_client.get("/login/complete", params={"grant": grant, "redirect_to": redirect_to})
    assert response.status_code == 303
    assert response.headers["location"] == "/customers"


@pytest.mark.parametrize("redirect_to", ["/customers?q=ann", "/settings/branding", "/customers/cus_1#links"])
async def test_completing_sign_in_opens_the_page_asked_for(user: User, redirect_to: str) -> None:
    await user.open("/login")
    grant = await _grant_for(user.http_client)
    response = await user.http_client.get("/login/complete", params={"grant": grant, "redirect_to": redirect_to})
    assert response.headers["location"] == redirect_to


# --- The grant works once, and only for the login page that asked for it ------------------------------------------


async def test_a_grant_signs_in_once(user: User) -> None:
    """A grant seen by someone else (history, logs, a shoulder) is useless once the merchant has used it."""
    await user.open("/login")
    before_sign_in = copy_of(user.http_client.cookies)  # the cookie as it was when the grant was asked for
    complete = await _sign_in_target(user.http_client)
    assert (await user.http_client.get(complete)).status_code == 303
    assert await opens_the_dashboard(user.http_client)
    async with another_browser(before_sign_in) as replay:
        response = await replay.get(complete)
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert not await opens_the_dashboard(replay)


async def test_a_session_cookie_planted_before_sign_in_cannot_use_the_grant(user: User) -> None:
    """The attacker planted their own session cookie in the victim's browser and got hold of the victim's grant:
    the grant is bound to a key the victim's login page added to the cookie, which the attacker's copy lacks."""
    async with another_browser() as attacker_browser:
        await attacker_browser.get("/login")
        planted = copy_of(attacker_browser.cookies)
    async with another_browser(copy_of(planted)) as victim, another_browser(planted) as attacker:
        complete = await _sign_in_target(victim)
        response = await attacker.get(complete)
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert not await opens_the_dashboard(attacker)
        assert (await victim.get(complete)).status_code == 303
        assert await opens_the_dashboard(victim)


# --- Signing out ------------------------------------------------------------------------------------------------


async def test_the_cookie_of_a_sign_in_opens_nothing_after_sign_out(user: User) -> None:
    """The cookie captured from the 303 of `/login/complete` (it carries the hand-over to the new session) is
    refused after sign-out: the hand-over works once, and sign-out starts a new session."""
    await user.open("/login")
    complete = await _sign_in_target(user.http_client)
    response = await user.http_client.get(complete)
    assert response.status_code == 303
    captured = copy_of(user.http_client.cookies)
    await user.open("/customers")
    await sign_out(user)
    async with another_browser(captured) as replay:
        response = await replay.get("/customers")
        assert response.status_code == 307 and response.headers["location"].startswith("/login")


async def test_a_link_or_a_cross_site_post_to_logout_signs_nobody_out(user: User) -> None:
    await log_in(user, then="/customers")
    client = user.http_client
    for attempt in (
        client.get("/logout"),  # <a href> or <img src> on another site
        client.post("/logout"),  # a cross-site form has no token
        client.post("/logout", data={"sign_out_token": "0" * 64}, headers={"Origin": "https://evil.example"}),
    ):
        response = await attempt
        assert response.status_code in (200, 303)
        assert await opens_the_dashboard(client)
    confirmation = await client.get("/logout")
    assert "Sign out of your dashboard in this browser?" in confirmation.text


async def test_signing_out_ends_the_session_and_starts_a_new_one(user: User) -> None:
    await log_in(user, then="/customers")
    before = copy_of(user.http_client.cookies)
    await sign_out(user)
    assert copy_of(user.http_client.cookies).get("session") != before.get("session")
    assert not await opens_the_dashboard(user.http_client)


async def test_an_open_tab_refuses_actions_after_sign_out_in_another(user: User, database: Database) -> None:
    """Copy url in a tab opened before signing out in another tab creates no link and asks to sign in again."""
    await log_in(user, then="/customers")
    with database.transaction() as session:
        customer_id = session.scalars(select(Customer.id).where(Customer.merchant_id == acme(session).id)).first()
    await user.open(f"/customers/{customer_id}")
    other_tab = User(user.http_client)
    await other_tab.open("/customers")
    await sign_out(other_tab)
    before = snapshot(database)
    targets: list[str] = []
    user.navigate.to = targets.append  # type: ignore[method-assign] - see where the page sends the browser
    user.find(kind=ui.button, content="Copy url").click()
    await user.should_see("You have signed out. Sign in again to continue.")
    assert targets == [f"/login?redirect_to=%2Fcustomers%2F{customer_id}"]
    assert snapshot(database) == before
