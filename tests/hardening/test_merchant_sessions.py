"""Merchant sessions: copied or planted cookies, login CSRF, the sign-in grant, and redirects after sign-in.

Why a cross-site form cannot sign anyone in: `/login` is a NiceGUI page, so the email and password travel as
websocket events of a page the server built for that browser; there is no endpoint that accepts credentials by
POST. The only HTTP step of signing in, `/login/complete`, needs a grant that is signed, a minute old at most and
bound to the browser that typed the password, so a link or form pointing at it from another site cannot sign a
victim in as the attacker (login CSRF) either.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from nicegui import core, ui
from nicegui.testing import User

from app.config import Settings
from app.services.accounts import SIGN_IN_GRANT_SECONDS, issue_sign_in_grant, open_sign_in_grant
from tests.conftest import DEMO_NOW, DEMO_PASSWORD
from tests.ui.conftest import log_in


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
        user.find(kind=ui.button, content="Sign out").click()
        await user.should_see("Sign in to your dashboard", retries=30)
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
    browser = User(client)
    await browser.open("/login")
    browser.find("Email").type("owner@acme.test")
    browser.find("Password").type(DEMO_PASSWORD)
    targets: list[str] = []
    browser.navigate.to = targets.append  # type: ignore[method-assign] - keep the grant instead of following it
    browser.find(kind=ui.button, content="Sign in").click()
    (target,) = targets
    return str(httpx.URL(target).params["grant"])


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


def test_a_grant_is_signed_short_lived_and_bound_to_its_browser(settings: Settings) -> None:
    grant = issue_sign_in_grant(settings=settings, user_id="usr_1", browser_id="browser-a", clock=lambda: DEMO_NOW)
    fresh = DEMO_NOW + timedelta(seconds=SIGN_IN_GRANT_SECONDS - 1)
    late = DEMO_NOW + timedelta(seconds=SIGN_IN_GRANT_SECONDS + 1)
    assert open_sign_in_grant(settings=settings, grant=grant, browser_id="browser-a", clock=lambda: fresh) == "usr_1"
    assert open_sign_in_grant(settings=settings, grant=grant, browser_id="browser-b", clock=lambda: fresh) is None
    assert open_sign_in_grant(settings=settings, grant=grant, browser_id="", clock=lambda: fresh) is None
    assert open_sign_in_grant(settings=settings, grant=grant, browser_id="browser-a", clock=lambda: late) is None
    tampered = grant[:-2] + ("AA" if grant[-2:] != "AA" else "BB")
    assert open_sign_in_grant(settings=settings, grant=tampered, browser_id="browser-a", clock=lambda: fresh) is None
    other_key = settings.model_copy(update={"secret_key": "another-secret-key-that-is-long-enough-42"})
    assert open_sign_in_grant(settings=other_key, grant=grant, browser_id="browser-a", clock=lambda: fresh) is None
